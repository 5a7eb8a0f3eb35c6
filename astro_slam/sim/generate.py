"""Procedural homes from a seed: plan, structure, furniture, decorations, rugs and the dock."""

from __future__ import annotations

import numpy as np

from astro_slam.sim.furniture import decorate_room, furnish_room, rug_zone
from astro_slam.sim.home import Home
from astro_slam.sim.layout import build_structure, plan_rooms


def generate_home(seed: int, n_rooms: int | None = None, twins: bool = True) -> Home:
    """A furnished home; the same seed always gives the same home.

    Args:
        seed: the home seed (`--home-seed`).
        n_rooms: rooms besides the hallway (3-6); drawn from the seed when None.
        twins: furnish two rooms alike (same paint, floor, furniture and books), the
            perceptual aliasing real homes have.
    """
    rng = np.random.default_rng([seed, 0xA57])
    n_rooms = int(rng.integers(3, 7)) if n_rooms is None else n_rooms
    rooms, doors = plan_rooms(rng, n_rooms)
    hall_y = rooms[0].rect[3] / 2
    home = Home(seed, rooms, doors, [], dock=(0.6, hall_y, 0.0))
    home.boxes = build_structure(home, paint_seed=seed)
    twin_ids = _twin_rooms(home) if twins else ()
    home.twins = twin_ids
    for room in rooms:
        # Twins draw their furniture and decorations from one stream: they look alike.
        stream = twin_ids[0] if room.id in twin_ids else room.id
        room_rng = np.random.default_rng([seed, stream, 1])
        home.boxes += furnish_room(home, room, room_rng)
        home.boxes += decorate_room(room, room_rng, count=4)
        if room.kind == 'living':
            rug, zone = rug_zone(room, room_rng)
            home.boxes.append(rug)
            home.zones.append(zone)
    if twin_ids:
        _share_paint(home, twin_ids)
    return home


def _twin_rooms(home: Home) -> tuple[int, ...]:
    bedrooms = [r.id for r in home.rooms if r.kind == 'bedroom']
    return tuple(bedrooms[:2]) if len(bedrooms) >= 2 else ()


def _share_paint(home: Home, twin_ids: tuple[int, ...]) -> None:
    """The second twin gets the first one's wall, floor and ceiling textures."""
    first = twin_ids[0]
    textures = {
        b.kind: b.texture
        for b in home.boxes
        if b.kind in ('wall', 'floor', 'ceiling') and b.name.endswith(f' {first}')
    }
    for box in home.boxes:
        if box.kind in textures and box.name.endswith(tuple(f' {t}' for t in twin_ids[1:])):
            box.texture = textures[box.kind]
