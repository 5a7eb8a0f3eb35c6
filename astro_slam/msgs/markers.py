"""visualization_msgs/MarkerArray <-> list of Marker (what RViz shows of the map and loops)."""

from __future__ import annotations

from typing import Any

import numpy as np

from astro_slam.msgs.errors import require_finite
from astro_slam.msgs.factory import MessageFactory
from astro_slam.msgs.poses import matrix_to_pose, pose_to_matrix
from astro_slam.msgs.time import header_ns, ns_to_sec_nanosec
from astro_slam.types import Marker


def _rgba(c: Any) -> list[float]:
    return [c.r, c.g, c.b, c.a]


def from_marker(msg: Any) -> Marker:
    lifetime = msg.lifetime
    return Marker(
        t_ns=header_ns(msg),
        frame_id=msg.header.frame_id,
        ns=msg.ns,
        id=int(msg.id),
        type=int(msg.type),
        action=int(msg.action),
        T=pose_to_matrix(msg.pose),
        scale=require_finite([msg.scale.x, msg.scale.y, msg.scale.z], 'marker scale'),
        color=require_finite(_rgba(msg.color), 'marker color'),
        points=require_finite([[p.x, p.y, p.z] for p in msg.points], 'marker points').reshape(
            -1, 3
        ),
        colors=require_finite([_rgba(c) for c in msg.colors], 'marker colors').reshape(-1, 4),
        text=msg.text,
        lifetime_ns=int(lifetime.sec) * 1_000_000_000 + int(lifetime.nanosec),
        frame_locked=bool(msg.frame_locked),
    )


def from_marker_array(msg: Any) -> list[Marker]:
    return [from_marker(m) for m in msg.markers]


def _color(factory: MessageFactory, rgba: np.ndarray) -> Any:
    return factory.make('std_msgs/msg/ColorRGBA', r=rgba[0], g=rgba[1], b=rgba[2], a=rgba[3])


def to_marker(factory: MessageFactory, m: Marker) -> Any:
    sec, nanosec = ns_to_sec_nanosec(m.lifetime_ns)
    return factory.make(
        'visualization_msgs/msg/Marker',
        header=factory.header(m.t_ns, m.frame_id),
        ns=m.ns,
        id=m.id,
        type=m.type,
        action=m.action,
        pose=matrix_to_pose(factory, m.T),
        scale=factory.make('geometry_msgs/msg/Vector3', x=m.scale[0], y=m.scale[1], z=m.scale[2]),
        color=_color(factory, m.color),
        lifetime=factory.make('builtin_interfaces/msg/Duration', sec=sec, nanosec=nanosec),
        frame_locked=m.frame_locked,
        points=[
            factory.make('geometry_msgs/msg/Point', x=p[0], y=p[1], z=p[2])
            for p in np.asarray(m.points, dtype=float).reshape(-1, 3)
        ],
        colors=[_color(factory, c) for c in np.asarray(m.colors, dtype=float).reshape(-1, 4)],
        text=m.text,
    )


def to_marker_array(factory: MessageFactory, markers: list[Marker]) -> Any:
    return factory.make(
        'visualization_msgs/msg/MarkerArray', markers=[to_marker(factory, m) for m in markers]
    )
