"""The /vo/keyframe PointCloud2 of docs/ARCHITECTURE.md, in one place for its writer (VO) and
its readers: one point per landmark with x, y, z (camera frame, m), u, v (pixels), id (uint32,
the same landmark keeps its id across keyframes) and descriptor; the stamp is the image's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from astro_slam.msgs.errors import InvalidMessage
from astro_slam.msgs.factory import MessageFactory
from astro_slam.msgs.pointcloud import array_to_cloud, cloud_to_array
from astro_slam.msgs.time import header_ns

REQUIRED = ('x', 'y', 'z', 'u', 'v', 'descriptor')


@dataclass
class KeyframeCloud:
    t_ns: int
    frame_id: str
    points_c: np.ndarray  # (N, 3) float64
    xy: np.ndarray  # (N, 2) float64
    descriptors: np.ndarray  # (N, D): uint8 (binary) or float32
    ids: np.ndarray | None  # (N,) int64; None when the cloud has no id field


def to_keyframe_cloud(
    factory: MessageFactory,
    t_ns: int,
    frame_id: str,
    points_c: np.ndarray,
    xy: np.ndarray,
    ids: np.ndarray,
    descriptors: np.ndarray,
) -> Any:
    dtype = np.dtype(
        [
            ('x', '<f4'),
            ('y', '<f4'),
            ('z', '<f4'),
            ('u', '<f4'),
            ('v', '<f4'),
            ('id', '<u4'),
            ('descriptor', descriptors.dtype, (descriptors.shape[1],)),
        ]
    )
    points = np.zeros(len(ids), dtype)
    points['x'], points['y'], points['z'] = points_c.T
    points['u'], points['v'] = xy.T
    points['id'] = ids.astype(np.uint32)
    points['descriptor'] = descriptors
    return array_to_cloud(factory, points, t_ns, frame_id)


def from_keyframe_cloud(msg: Any) -> KeyframeCloud:
    """Raises InvalidMessage when a required field is missing or the buffer is short."""
    points = cloud_to_array(msg)
    names = points.dtype.names or ()
    if missing := set(REQUIRED) - set(names):
        raise InvalidMessage(f'keyframe lacks the fields {sorted(missing)}')
    return KeyframeCloud(
        header_ns(msg),
        str(msg.header.frame_id),
        np.stack([points['x'], points['y'], points['z']], axis=1).astype(float),
        np.stack([points['u'], points['v']], axis=1).astype(float),
        np.ascontiguousarray(points['descriptor']),
        points['id'].astype(np.int64) if 'id' in names else None,
    )
