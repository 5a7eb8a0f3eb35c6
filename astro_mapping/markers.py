"""/map_layers: what RViz shows of the long-term map.

Namespaces (each can be toggled in RViz): rooms (cells coloured per room, with a label),
doors, places (coloured from old to this session), landmarks (red seen once to green seen in
most sessions), changes (of the latest session: appeared red, left blue, reshaped purple).
"""

from __future__ import annotations

import colorsys

import numpy as np

from astro_mapping.layers import LongTermMap
from astro_slam.transforms import make_transform
from astro_slam.types import Marker

_CHANGE_COLOURS = {
    'appeared': (0.9, 0.1, 0.1, 0.8),
    'left': (0.1, 0.3, 0.9, 0.8),
    'reshaped': (0.6, 0.1, 0.8, 0.5),
}


def _room_colour(i: int) -> tuple[float, float, float]:
    return colorsys.hsv_to_rgb((i * 0.618) % 1.0, 0.6, 0.9)


def layer_markers(m: LongTermMap, t_ns: int, frame: str, live: np.ndarray) -> list[Marker]:
    """Markers for the map `m` and the positions `live` (N, 3) of this session's keyframes."""
    out = [Marker(t_ns, frame, '', 0, Marker.POINTS, action=Marker.DELETEALL)]
    floor, rooms = m.floor, m.rooms
    cells = np.argwhere(rooms.labels >= 0)[::2]  # every other cell is enough to see
    if len(cells):
        xy = floor.center(cells)
        colours = np.array([(*_room_colour(int(r)), 0.35) for r in rooms.labels[tuple(cells.T)]])
        out.append(_points('rooms', 0, Marker.CUBE_LIST, xy, 0.0, colours, floor.resolution_m))
        for room in rooms.rooms:
            label = Marker(
                t_ns,
                frame,
                'rooms',
                room.id + 1,
                Marker.TEXT_VIEW_FACING,
                T=make_transform(t=np.r_[room.centroid, 0.5]),
                scale=np.array([0.0, 0.0, 0.25]),
                color=np.array([1.0, 1.0, 1.0, 1.0]),
                text=f'room {room.id} ({room.area_m2:.0f} m2)',
            )
            out.append(label)
    if rooms.doors:
        xy = np.array([d.xy for d in rooms.doors])
        out.append(_points('doors', 0, Marker.SPHERE_LIST, xy, 0.1, (1.0, 0.6, 0.0, 1.0), 0.15))
    if m.places:
        xyz = np.array([p.T_map_base[:3, 3] for p in m.places])
        age = np.array([m.sessions - p.session for p in m.places], float)
        shade = 1.0 - np.clip(age / 10.0, 0.0, 0.8)
        colours = np.column_stack([0.2 * shade, 0.5 * shade, shade, np.ones(len(shade))])
        out.append(_points('places', 0, Marker.SPHERE_LIST, xyz[:, :2], 0.05, colours, 0.08))
    if len(live):
        out.append(
            _points('places', 1, Marker.POINTS, live[:, :2], 0.05, (1.0, 1.0, 0.2, 1.0), 0.05)
        )
    lm = m.landmarks
    if len(lm):
        age = np.maximum(m.sessions - lm.first_session + 1, 1)
        persistence = np.clip(lm.sessions_seen / age, 0.0, 1.0)
        colours = np.column_stack(
            [1 - persistence, persistence, np.zeros(len(lm)), np.ones(len(lm))]
        )
        out.append(_points('landmarks', 0, Marker.POINTS, lm.xyz, None, colours, 0.03))
    latest = [c for c in floor.changes if c.session == m.sessions]
    for i, change in enumerate(latest):
        size = max(np.sqrt(change.area_m2), 0.2) if change.kind != 'reshaped' else 1.0
        out.append(
            Marker(
                t_ns,
                frame,
                'changes',
                i,
                Marker.CYLINDER,
                T=make_transform(t=np.r_[change.xy, 0.05]),
                scale=np.array([size, size, 0.1]),
                color=np.array(_CHANGE_COLOURS[change.kind]),
            )
        )
    for marker in out[1:]:
        marker.t_ns, marker.frame_id = t_ns, frame
    return out


def _points(
    ns: str, mid: int, kind: int, xy: np.ndarray, z: float | None, colour: object, size: float
) -> Marker:
    pts = np.asarray(xy, float)
    if z is not None:
        pts = np.column_stack([pts[:, :2], np.full(len(pts), z)])
    colours = np.asarray(colour, float).reshape(-1, 4)
    one = len(colours) == 1 and len(pts) != 1
    return Marker(
        0,
        '',
        ns,
        mid,
        kind,
        scale=np.array([size, size, size]),
        color=colours[0] if one else np.ones(4),
        points=pts,
        colors=np.zeros((0, 4)) if one else colours,
    )
