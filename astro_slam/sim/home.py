"""A home as the simulator sees it: rooms, doors, windows and textured boxes, procedural or YAML.

Everything visible is a box (walls, floors, furniture parts, floor objects, people), so one
instanced draw renders a home. Each room owns its walls, inset into its rectangle, so the two
sides of a wall carry the two rooms' paint and a door is a gap in both.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

WALL_HEIGHT_M = 2.5
WALL_THICKNESS_M = 0.05
DOOR_WIDTH_M = 0.9


@dataclass
class Box:
    """A textured box; size is the full extent along its own x, y, z; yaw about z (rad)."""

    name: str
    kind: str  # floor, ceiling, wall, furniture, object, decor, threshold, window, person, pet
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float = 0.0
    texture: tuple[str, int] = ('paint', 0)  # (kind, seed) for textures.make_texture
    group: str = ''  # the furniture piece it belongs to; a group moves as one
    emissive: float = 0.0  # windows glow with the daylight

    def footprint(self) -> np.ndarray:
        """Corners (4, 2) of the box's outline on the floor, map frame."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        hx, hy = self.size[0] / 2, self.size[1] / 2
        local = np.array([[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]])
        return local @ np.array([[c, s], [-s, c]]) + np.array(self.center[:2])


@dataclass
class Room:
    id: int
    name: str
    kind: str  # living, kitchen, bedroom, office, bathroom, hallway
    rect: tuple[float, float, float, float]  # x0, y0, x1, y1 (m)
    light_xy: tuple[float, float] = (0.0, 0.0)

    @property
    def center(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.rect
        return (x0 + x1) / 2, (y0 + y1) / 2

    @property
    def area_m2(self) -> float:
        x0, y0, x1, y1 = self.rect
        return (x1 - x0) * (y1 - y0)

    def contains(self, x: float, y: float) -> bool:
        x0, y0, x1, y1 = self.rect
        return x0 <= x <= x1 and y0 <= y <= y1


@dataclass
class Door:
    """A doorway between two rooms: centre, width, and the axis of the wall it cuts."""

    rooms: tuple[int, int]
    xy: tuple[float, float]
    wall_axis: str  # 'x': the wall runs along x (pass through along y); 'y': the converse
    width_m: float = DOOR_WIDTH_M
    threshold_m: float = 0.015


@dataclass
class Zone:
    """A floor area with a property: 'slip' (rug, wet floor) where wheels lose grip."""

    kind: str
    rect: tuple[float, float, float, float]
    label: str = ''


@dataclass
class Home:
    seed: int
    rooms: list[Room]
    doors: list[Door]
    boxes: list[Box]
    zones: list[Zone] = field(default_factory=list)
    dock: tuple[float, float, float] = (0.5, 0.5, 0.0)  # x, y, yaw
    twins: tuple[int, ...] = ()  # rooms furnished alike on purpose (perceptual aliasing)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        rects = np.array([r.rect for r in self.rooms])
        return rects[:, 0].min(), rects[:, 1].min(), rects[:, 2].max(), rects[:, 3].max()

    @property
    def area_m2(self) -> float:
        return sum(r.area_m2 for r in self.rooms)

    def room_at(self, x: float, y: float) -> int:
        """Id of the room containing (x, y), or -1."""
        return next((r.id for r in self.rooms if r.contains(x, y)), -1)


def home_to_dict(home: Home) -> dict[str, Any]:
    return dataclasses.asdict(home)


def _tuples(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """A copy of data with the given list fields as tuples (YAML has no tuples)."""
    return {**data, **{k: tuple(data[k]) for k in keys if k in data}}


def _room(data: dict[str, Any]) -> Room:
    room = Room(**_tuples(data, 'rect', 'light_xy'))
    if 'light_xy' not in data:
        room.light_xy = room.center
    return room


def home_from_dict(data: dict[str, Any]) -> Home:
    """A Home from plain data (YAML).

    Raises:
        ValueError: a field is missing or unknown.
    """
    try:
        return Home(
            seed=int(data.get('seed', 0)),
            rooms=[_room(r) for r in data['rooms']],
            doors=[Door(**_tuples(d, 'rooms', 'xy')) for d in data.get('doors', [])],
            boxes=[Box(**_tuples(b, 'center', 'size', 'texture')) for b in data.get('boxes', [])],
            zones=[Zone(**_tuples(z, 'rect')) for z in data.get('zones', [])],
            dock=tuple(data.get('dock', (0.5, 0.5, 0.0))),
            twins=tuple(data.get('twins', ())),
        )
    except (KeyError, TypeError) as err:
        raise ValueError(f'not a home description: {err}') from None


def load_home_yaml(path: str | Path) -> Home:
    """A hand-written home; structure (walls, floors) is added with `build_structure` when
    the file gives only rooms and doors."""
    from astro_slam.sim.layout import build_structure

    try:
        data = yaml.safe_load(Path(path).read_text(encoding='utf-8'))
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f'{path}: cannot read the home ({err})') from None
    if not isinstance(data, dict) or not data.get('rooms'):
        raise ValueError(f'{path}: a home YAML needs a non-empty list of rooms')
    try:
        home = home_from_dict(data)
    except ValueError as err:
        raise ValueError(f'{path}: {err}') from None
    if not any(b.kind == 'wall' for b in home.boxes):
        home.boxes = build_structure(home) + home.boxes
    return home


def save_home_yaml(home: Home, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(home_to_dict(home), sort_keys=False), encoding='utf-8')
