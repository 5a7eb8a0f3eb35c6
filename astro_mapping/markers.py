"""/map_layers: what RViz shows of the long-term map.

Namespaces (each can be toggled in RViz): rooms (cells coloured per room) and room_labels,
doors, places (earlier sessions dark blue, the last merged one light blue), session (this
session's keyframes, yellow), landmarks (red: seen in under a third of the sessions since they
appeared, yellow: under two thirds, green: more), changes (of the latest merge: appeared red,
left blue, reshaped purple).
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


def layer_markers(m: LongTermMap, t_ns: int, frame: str) -> list[Marker]:
    """Markers for the map `m`, a few per layer: single-colour lists, so that RViz and the
    message layer handle tens of thousands of points cheaply."""
    out = [Marker(t_ns, frame, '', 0, Marker.POINTS, action=Marker.DELETEALL)]
    floor, rooms = m.floor, m.rooms
    step = max(int(round(0.2 / floor.resolution_m)), 1) if floor.log_odds.size else 1
    for room in rooms.rooms:
        cells = np.argwhere(rooms.labels[::step, ::step] == room.id) * step
        if len(cells):
            colour = (*_room_colour(room.id), 0.35)
            size = floor.resolution_m * step
            out.append(
                _points('rooms', room.id, Marker.CUBE_LIST, floor.center(cells), 0.0, colour, size)
            )
        label = Marker(
            t_ns,
            frame,
            'room_labels',
            room.id,
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
        latest = np.array([p.session == m.sessions for p in m.places])
        for i, (mask, colour) in enumerate(
            ((~latest, (0.2, 0.4, 0.9, 1.0)), (latest, (0.3, 0.8, 1.0, 1.0)))
        ):
            if np.any(mask):
                out.append(
                    _points('places', i, Marker.SPHERE_LIST, xyz[mask, :2], 0.05, colour, 0.08)
                )
    lm = m.landmarks
    if len(lm):
        age = np.maximum(m.sessions - lm.first_session + 1, 1)
        persistence = lm.sessions_seen / age
        bins = (
            (persistence < 0.34, (0.9, 0.2, 0.1, 1.0)),
            ((persistence >= 0.34) & (persistence < 0.67), (0.9, 0.8, 0.1, 1.0)),
            (persistence >= 0.67, (0.2, 0.9, 0.2, 1.0)),
        )
        for i, (mask, colour) in enumerate(bins):
            if np.any(mask):
                out.append(
                    _points('landmarks', i, Marker.POINTS, lm.xyz[mask], None, colour, 0.03)
                )
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


def session_markers(xyz: np.ndarray, t_ns: int, frame: str) -> list[Marker]:
    """This session's keyframes so far (yellow), until the next merge makes them places."""
    marker = _points('session', 0, Marker.POINTS, xyz[:, :2], 0.05, (1.0, 1.0, 0.2, 1.0), 0.05)
    if not len(xyz):
        marker.action = Marker.DELETE
    marker.t_ns, marker.frame_id = t_ns, frame
    return [marker]


def _points(
    ns: str, mid: int, kind: int, xy: np.ndarray, z: float | None, colour: tuple, size: float
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
