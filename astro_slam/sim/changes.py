"""Change between sessions: chairs and tables move, things land on the floor, rooms get redone.

Minor change (a day) moves light furniture and drops bags, boxes and shoes; major change (weeks)
re-furnishes a room, adds decorations and repaints a wall. Each change is returned as an event
for the labels, so a map's reaction to it can be scored.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from astro_slam.sim.furniture import decorate_room, furnish_room
from astro_slam.sim.home import Box, Home
from astro_slam.sim.patrol import FloorGrid

FLOOR_OBJECTS = {  # size (m), texture kind
    'bag': ((0.4, 0.25, 0.35), 'fabric'),
    'box': ((0.45, 0.35, 0.3), 'cardboard'),
    'shoes': ((0.3, 0.25, 0.1), 'skin'),
    'basket': ((0.5, 0.4, 0.25), 'rug'),
}


def _move_light_furniture(home: Home, rng: np.random.Generator, events: list) -> None:
    groups = sorted(
        {
            b.group
            for b in home.boxes
            if b.kind == 'furniture' and (':chair' in b.group or ':table' in b.group)
        }
    )
    for group in groups:
        if rng.random() > 0.6:
            continue
        d = rng.normal(0, 0.2, 2)
        dyaw = float(rng.normal(0, 0.25))
        parts = [b for b in home.boxes if b.group == group]
        pivot = np.mean([b.center[:2] for b in parts], axis=0)
        c, s = np.cos(dyaw), np.sin(dyaw)
        for b in parts:
            rel = np.array(b.center[:2]) - pivot
            x, y = pivot + d + np.array([c * rel[0] - s * rel[1], s * rel[0] + c * rel[1]])
            b.center = (float(x), float(y), b.center[2])
            b.yaw += dyaw
        events.append(
            {'kind': 'moved', 'what': group, 'shift_m': float(np.hypot(*d)), 'turn_rad': dyaw}
        )


def _drop_objects(home: Home, rng: np.random.Generator, count: int, events: list) -> None:
    grid = FloorGrid(home)
    free = np.argwhere(grid.clearance_m > 0.6)  # not in the way of the patrol
    for i in range(count):
        if not len(free):
            return
        r, c = free[int(rng.integers(len(free)))]
        x, y = grid.point((int(r), int(c)))
        kind = list(FLOOR_OBJECTS)[int(rng.integers(len(FLOOR_OBJECTS)))]
        size, texture = FLOOR_OBJECTS[kind]
        name = f'{kind} {len(home.boxes)}.{i}'
        home.boxes.append(
            Box(
                name,
                'object',
                (float(x), float(y), size[2] / 2),
                size,
                float(rng.uniform(0, np.pi)),
                (texture, int(rng.integers(1 << 30))),
                group=name,
            )
        )
        events.append({'kind': 'appeared', 'what': name, 'xy': [float(x), float(y)]})


def _redo_room(home: Home, rng: np.random.Generator, events: list) -> None:
    rooms = [r for r in home.rooms if r.kind != 'hallway']
    room = rooms[int(rng.integers(len(rooms)))]
    prefix = f'{room.kind}{room.id}:'
    home.boxes = [b for b in home.boxes if not b.group.startswith(prefix)]
    home.boxes += furnish_room(home, room, rng)
    home.boxes += decorate_room(room, rng, count=2)
    old = next(b.texture for b in home.boxes if b.name == f'wall {room.id}')
    new_paint = _visibly_different_paint(old, rng)
    for box in home.boxes:
        if box.kind == 'wall' and box.name == f'wall {room.id}':
            box.texture = new_paint
    events.append({'kind': 'rearranged', 'room': room.id, 'name': room.name})
    events.append({'kind': 'repainted', 'room': room.id, 'name': room.name})


def _visibly_different_paint(old: tuple[str, int], rng: np.random.Generator) -> tuple[str, int]:
    """A paint whose mean colour is far from the old one: a repaint a person would notice."""
    from astro_slam.sim.textures import make_texture

    before = make_texture(*old, 64).reshape(-1, 3).mean(axis=0)
    for _ in range(20):
        candidate = ('paint', int(rng.integers(1 << 30)))
        after = make_texture(*candidate, 64).reshape(-1, 3).mean(axis=0)
        if np.abs(after - before).sum() > 60:
            return candidate
    return candidate


def apply_changes(home: Home, level: str, rng: np.random.Generator) -> tuple[Home, list[dict]]:
    """A changed copy of the home and the list of what changed."""
    home = copy.deepcopy(home)
    events: list[dict[str, Any]] = []
    if level in ('minor', 'major'):
        _move_light_furniture(home, rng, events)
        _drop_objects(home, rng, int(rng.integers(2, 6)), events)
    if level == 'major':
        _redo_room(home, rng, events)
    return home, events
