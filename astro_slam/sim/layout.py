"""Procedural floor plans: a hallway with rooms on both sides, doors, walls, floors, windows.

The plan is a corridor along x with a row of rooms above and below it. Every room opens onto
the hallway; some neighbours share a second door, which gives the patrol loops.
"""

from __future__ import annotations

import numpy as np

from astro_slam.sim.home import (
    WALL_HEIGHT_M,
    WALL_THICKNESS_M,
    Box,
    Door,
    Home,
    Room,
)

FLOOR_TEXTURE = {
    'living': 'wood',
    'bedroom': 'wood',
    'office': 'wood',
    'kitchen': 'tiles',
    'bathroom': 'tiles',
    'hallway': 'wood',
}
ROOM_KINDS = ('living', 'kitchen', 'bedroom', 'bedroom', 'office', 'bathroom')


def _split(rng: np.random.Generator, length: float, parts: int, minimum: float) -> list[float]:
    """Cut points of [0, length] into `parts` pieces no shorter than `minimum`."""
    spare = length - parts * minimum
    weights = rng.dirichlet(np.ones(parts) * 3)
    widths = minimum + spare * weights
    return [0.0, *np.cumsum(widths).tolist()]


def plan_rooms(rng: np.random.Generator, n_rooms: int) -> tuple[list[Room], list[Door]]:
    """Rooms (hallway first) and doors for `n_rooms` rooms (3-6) plus the hallway."""
    if not 3 <= n_rooms <= 6:
        raise ValueError(f'a home has 3-6 rooms, not {n_rooms}')
    n_top = (n_rooms + 1) // 2
    n_bottom = n_rooms - n_top
    hall_w = float(rng.uniform(1.3, 1.6))
    depth_top, depth_bottom = rng.uniform(3.4, 4.4, size=2)
    length = float(np.clip(rng.uniform(3.0, 3.8) * n_top, 8.0, 14.0))
    rooms = [Room(0, 'hallway', 'hallway', (0.0, 0.0, length, hall_w))]
    rest = list(ROOM_KINDS[1:n_rooms])
    rng.shuffle(rest)
    kinds = ['living', *rest]  # the living room stays first: the dock looks into it
    doors: list[Door] = []
    rows = [(n_top, hall_w, hall_w + depth_top), (n_bottom, -depth_bottom, 0.0)]
    for count, y0, y1 in rows:
        if not count:
            continue
        cuts = _split(rng, length, count, 2.8)
        row_ids = []
        for x0, x1 in zip(cuts[:-1], cuts[1:], strict=True):
            room_id = len(rooms)
            kind = kinds[room_id - 1]
            rooms.append(Room(room_id, f'{kind} {room_id}', kind, (x0, float(y0), x1, float(y1))))
            door_x = float(rng.uniform(x0 + 0.7, x1 - 0.7))
            door_y = hall_w if y0 >= hall_w else 0.0
            doors.append(
                Door(
                    (0, room_id), (door_x, door_y), 'x', threshold_m=float(rng.uniform(0.01, 0.02))
                )
            )
            row_ids.append(room_id)
        for a, b in zip(row_ids[:-1], row_ids[1:], strict=True):
            if rng.random() < 0.5:
                x = rooms[a].rect[2]
                y = float(rng.uniform(y0 + 0.8, y1 - 0.8))
                doors.append(Door((a, b), (x, y), 'y', threshold_m=float(rng.uniform(0.01, 0.02))))
    for room in rooms:
        room.light_xy = room.center
    return rooms, doors


def _wall_pieces(start: float, end: float, gaps: list[tuple[float, float]]) -> list[tuple]:
    pieces, cursor = [], start
    for g0, g1 in sorted(gaps):
        if g0 > cursor:
            pieces.append((cursor, g0))
        cursor = max(cursor, g1)
    if cursor < end:
        pieces.append((cursor, end))
    return [(a, b) for a, b in pieces if b - a > 0.02]


def build_structure(home: Home, paint_seed: int = 0) -> list[Box]:
    """Walls (with door gaps), floors, ceilings, thresholds and windows of every room."""
    boxes: list[Box] = []
    x_min, y_min, x_max, y_max = home.bounds
    t, h = WALL_THICKNESS_M, WALL_HEIGHT_M
    for room in home.rooms:
        x0, y0, x1, y1 = room.rect
        seed = paint_seed * 1000 + room.id
        paint = ('paint', seed)
        boxes.append(
            Box(
                f'floor {room.id}',
                'floor',
                ((x0 + x1) / 2, (y0 + y1) / 2, -0.025),
                (x1 - x0, y1 - y0, 0.05),
                texture=(FLOOR_TEXTURE[room.kind], seed),
            )
        )
        boxes.append(
            Box(
                f'ceiling {room.id}',
                'ceiling',
                ((x0 + x1) / 2, (y0 + y1) / 2, h + 0.025),
                (x1 - x0, y1 - y0, 0.05),
                texture=('paint', 500 + seed),
            )
        )
        doors = [d for d in home.doors if room.id in d.rooms]
        sides = [
            ('x', y0 + t / 2, x0, x1),
            ('x', y1 - t / 2, x0, x1),
            ('y', x0 + t / 2, y0, y1),
            ('y', x1 - t / 2, y0, y1),
        ]
        for axis, fixed, start, end in sides:
            on_line = 1 if axis == 'x' else 0
            gaps = [
                (d.xy[1 - on_line] - d.width_m / 2, d.xy[1 - on_line] + d.width_m / 2)
                for d in doors
                if d.wall_axis == axis and abs(d.xy[on_line] - fixed) < 0.2
            ]
            for a, b in _wall_pieces(start, end, gaps):
                center = ((a + b) / 2, fixed) if axis == 'x' else (fixed, (a + b) / 2)
                size = (b - a, t, h) if axis == 'x' else (t, b - a, h)
                boxes.append(Box(f'wall {room.id}', 'wall', (*center, h / 2), size, texture=paint))
            exterior = (axis == 'x' and fixed in (y_min + t / 2, y_max - t / 2)) or (
                axis == 'y' and fixed in (x_min + t / 2, x_max - t / 2)
            )
            if exterior and room.kind != 'hallway' and end - start > 2.0:
                boxes.append(_window(room, axis, fixed, start, end))
    for door in home.doors:
        x, y = door.xy
        size = (
            (door.width_m, 0.14, door.threshold_m)
            if door.wall_axis == 'x'
            else (0.14, door.width_m, door.threshold_m)
        )
        boxes.append(
            Box(
                f'threshold {door.rooms}',
                'threshold',
                (x, y, door.threshold_m / 2),
                size,
                texture=('wood', 900 + len(boxes)),
            )
        )
    return boxes


def _window(room: Room, axis: str, fixed: float, start: float, end: float) -> Box:
    """A glowing pane just inside an exterior wall; daylight comes in through it."""
    cx, cy = room.center
    inward = 0.01 if fixed < (cy if axis == 'x' else cx) else -0.01
    mid = (start + end) / 2
    width = min(1.4, (end - start) - 1.0)
    if axis == 'x':
        return Box(
            f'window {room.id}',
            'window',
            (mid, fixed + inward * 4, 1.5),
            (width, 0.02, 1.1),
            texture=('paint', 777),
            emissive=1.0,
        )
    return Box(
        f'window {room.id}',
        'window',
        (fixed + inward * 4, mid, 1.5),
        (0.02, width, 1.1),
        texture=('paint', 777),
        emissive=1.0,
    )
