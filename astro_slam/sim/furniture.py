"""Furniture from a small library of textured box shapes, placed against walls clear of doors.

Pieces are built in their own frame (x along the wall, y into the room, origin at the wall,
floor level) and posed by `place`. A room's free middle is kept for the robot.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from astro_slam.sim.home import WALL_THICKNESS_M, Box, Home, Room, Zone

Part = tuple[tuple[float, float, float], tuple[float, float, float], str]  # centre, size, role


def _sofa(rng: np.random.Generator) -> list[Part]:
    w = float(rng.uniform(1.6, 2.2))
    return [
        ((0, 0.45, 0.22), (w, 0.8, 0.44), 'fabric'),
        ((0, 0.1, 0.6), (w, 0.2, 0.5), 'fabric'),
        ((-w / 2 + 0.1, 0.45, 0.55), (0.2, 0.8, 0.2), 'fabric'),
        ((w / 2 - 0.1, 0.45, 0.55), (0.2, 0.8, 0.2), 'fabric'),
    ]


def _table(rng: np.random.Generator, height: float = 0.75) -> list[Part]:
    w, d = float(rng.uniform(0.9, 1.4)), float(rng.uniform(0.7, 0.9))
    legs = [
        (
            (sx * (w / 2 - 0.05), 0.05 + d / 2 + sy * (d / 2 - 0.05), height / 2),
            (0.05, 0.05, height),
            'wood',
        )
        for sx in (-1, 1)
        for sy in (-1, 1)
    ]
    return [((0, 0.05 + d / 2, height - 0.02), (w, d, 0.04), 'wood'), *legs]


def _chair(rng: np.random.Generator) -> list[Part]:
    legs = [
        ((sx * 0.2, 0.3 + sy * 0.2, 0.22), (0.04, 0.04, 0.44), 'wood')
        for sx in (-1, 1)
        for sy in (-1, 1)
    ]
    return [
        ((0, 0.3, 0.46), (0.45, 0.45, 0.04), 'fabric'),
        ((0, 0.1, 0.7), (0.45, 0.04, 0.5), 'wood'),
        *legs,
    ]


def _shelf(rng: np.random.Generator) -> list[Part]:
    w, h = float(rng.uniform(0.8, 1.4)), float(rng.uniform(1.4, 2.0))
    parts: list[Part] = [
        ((0, 0.2, h / 2), (w, 0.04, h), 'wood'),
        ((-w / 2, 0.2, h / 2), (0.03, 0.35, h), 'wood'),
        ((w / 2, 0.2, h / 2), (0.03, 0.35, h), 'wood'),
    ]
    levels = np.linspace(0.05, h - 0.05, 4)
    for z in levels:
        parts.append(((0, 0.2, float(z)), (w, 0.35, 0.03), 'wood'))
    for z0, z1 in zip(levels[:-1], levels[1:], strict=True):
        parts.append(
            ((0, 0.28, float(z0 + z1) / 2), (w - 0.06, 0.2, float(z1 - z0) - 0.06), 'books')
        )
    return parts


def _bed(rng: np.random.Generator) -> list[Part]:
    w = float(rng.uniform(1.4, 1.8))
    return [
        ((0, 1.0, 0.25), (w, 2.0, 0.5), 'fabric'),
        ((0, 0.05, 0.55), (w, 0.1, 1.1), 'wood'),
        ((0, 0.35, 0.56), (w * 0.8, 0.4, 0.12), 'fabric'),
    ]


def _counter(rng: np.random.Generator) -> list[Part]:
    w = float(rng.uniform(1.6, 2.6))
    return [
        ((0, 0.32, 0.45), (w, 0.6, 0.9), 'wood'),
        ((0, 0.32, 0.92), (w, 0.64, 0.04), 'counter'),
        ((0, 0.04, 1.5), (w, 0.08, 0.7), 'tiles'),
    ]


def _cabinet(rng: np.random.Generator) -> list[Part]:
    w, h = float(rng.uniform(0.6, 1.2)), float(rng.uniform(0.5, 2.0))
    return [((0, 0.3, h / 2), (w, 0.55, h), 'wood')]


LIBRARY: dict[str, Callable[[np.random.Generator], list[Part]]] = {
    'sofa': _sofa,
    'table': _table,
    'chair': _chair,
    'shelf': _shelf,
    'bed': _bed,
    'counter': _counter,
    'cabinet': _cabinet,
}
ROOM_FURNITURE = {
    'living': ('sofa', 'shelf', 'table', 'cabinet', 'chair'),
    'kitchen': ('counter', 'table', 'chair', 'chair', 'cabinet'),
    'bedroom': ('bed', 'cabinet', 'shelf'),
    'office': ('table', 'chair', 'shelf', 'shelf'),
    'bathroom': ('counter', 'cabinet'),
    'hallway': (),  # kept clear: every patrol route runs through it
}


def place(
    name: str,
    parts: list[Part],
    xy: tuple[float, float],
    yaw: float,
    textures: dict[str, tuple[str, int]],
    kind: str = 'furniture',
) -> list[Box]:
    """Boxes of a piece whose frame origin is at xy with heading yaw (its +y into the room)."""
    c, s = np.cos(yaw), np.sin(yaw)
    boxes = []
    for (px, py, pz), size, role in parts:
        x, y = xy[0] + c * px - s * py, xy[1] + s * px + c * py
        boxes.append(
            Box(
                f'{name}:{role}',
                kind,
                (float(x), float(y), pz),
                size,
                float(yaw),
                textures.get(role, (role, 0)),
                group=name,
            )
        )
    return boxes


def _blocked(boxes: list[Box], keep_out: list[tuple[float, float, float, float]]) -> bool:
    for box in boxes:
        fx, fy = box.footprint().T
        for x0, y0, x1, y1 in keep_out:
            if fx.max() > x0 and fx.min() < x1 and fy.max() > y0 and fy.min() < y1:
                return True
    return False


def _keep_out(home: Home, room: Room) -> list[tuple[float, float, float, float]]:
    """Door approaches, which every route through the room needs.

    The rest may fill up: the patrol goes to whatever spot of the room stays most open.
    """
    zones = []
    for door in home.doors:
        if room.id in door.rooms:
            x, y = door.xy
            zones.append((x - 0.9, y - 1.1, x + 0.9, y + 1.1))
    return zones


def furnish_room(home: Home, room: Room, rng: np.random.Generator) -> list[Box]:
    """Pieces of the room's kind along its walls; a piece that does not fit is left out."""
    textures = {
        role: (role, int(rng.integers(1 << 30)))
        for role in ('wood', 'fabric', 'books', 'counter', 'tiles')
    }
    placed: list[Box] = []
    keep_out = _keep_out(home, room)
    x0, y0, x1, y1 = room.rect
    inset = WALL_THICKNESS_M + 0.02
    # Each wall runs so that the room is on its left: a piece's +y then points into the room.
    walls = [
        ((x0, y0 + inset), (x1, y0 + inset)),
        ((x1, y1 - inset), (x0, y1 - inset)),
        ((x0 + inset, y1), (x0 + inset, y0)),
        ((x1 - inset, y0), (x1 - inset, y1)),
    ]
    for index, piece in enumerate(ROOM_FURNITURE[room.kind]):
        parts = LIBRARY[piece](rng)
        for _ in range(40):  # random spots along the walls until one is free
            (ax, ay), (bx, by) = walls[int(rng.integers(len(walls)))]
            yaw = float(np.arctan2(by - ay, bx - ax))
            u = float(rng.uniform(0.15, 0.85))
            boxes = place(
                f'{room.kind}{room.id}:{piece}{index}',
                parts,
                (ax + u * (bx - ax), ay + u * (by - ay)),
                yaw,
                textures,
            )
            if not _blocked(boxes, keep_out) and _inside(boxes, room):
                placed += boxes
                keep_out += [_aabb(boxes, 0.05)]
                break
    return placed


def _aabb(boxes: list[Box], pad: float) -> tuple[float, float, float, float]:
    points = np.vstack([b.footprint() for b in boxes])
    return (
        points[:, 0].min() - pad,
        points[:, 1].min() - pad,
        points[:, 0].max() + pad,
        points[:, 1].max() + pad,
    )


def _inside(boxes: list[Box], room: Room) -> bool:
    x0, y0, x1, y1 = _aabb(boxes, 0.0)
    rx0, ry0, rx1, ry1 = room.rect
    t = WALL_THICKNESS_M
    return x0 >= rx0 + t and y0 >= ry0 + t and x1 <= rx1 - t and y1 <= ry1 - t


def decorate_room(room: Room, rng: np.random.Generator, count: int) -> list[Box]:
    """Posters and pictures on the walls, at eye height, facing into the room."""
    x0, y0, x1, y1 = room.rect
    t = WALL_THICKNESS_M + 0.012
    boxes = []
    for i in range(count):
        kind = 'poster' if rng.random() < 0.5 else 'picture'
        w, h = float(rng.uniform(0.4, 0.9)), float(rng.uniform(0.4, 0.8))
        z = float(rng.uniform(1.2, 1.7))
        side = int(rng.integers(4))
        if side < 2:
            x = float(rng.uniform(x0 + 0.6, x1 - 0.6))
            y = y0 + t if side == 0 else y1 - t
            center, size = (x, y, z), (w, 0.02, h)
        else:
            y = float(rng.uniform(y0 + 0.6, y1 - 0.6))
            x = x0 + t if side == 2 else x1 - t
            center, size = (x, y, z), (0.02, w, h)
        boxes.append(
            Box(
                f'{kind} {room.id}.{i}',
                'decor',
                center,
                size,
                texture=(kind, int(rng.integers(1 << 30))),
            )
        )
    return boxes


def rug_zone(room: Room, rng: np.random.Generator) -> tuple[Box, Zone]:
    """A rug in the middle of the room: visible texture and a wheel-slip zone."""
    cx, cy = room.center
    w, d = float(rng.uniform(1.4, 2.2)), float(rng.uniform(1.0, 1.6))
    rect = (cx - w / 2, cy - d / 2, cx + w / 2, cy + d / 2)
    rug = Box(
        f'rug {room.id}',
        'decor',
        (cx, cy, 0.004),
        (w, d, 0.008),
        texture=('rug', int(rng.integers(1 << 30))),
    )
    return rug, Zone('slip', rect, f'rug in {room.name}')
