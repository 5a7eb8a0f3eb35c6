"""nav_msgs/OccupancyGrid <-> GridMap."""

from __future__ import annotations

from typing import Any

import numpy as np

from astro_slam.msgs.errors import InvalidMessage, require_finite
from astro_slam.msgs.factory import MessageFactory, as_numpy
from astro_slam.msgs.poses import matrix_to_pose, pose_to_matrix
from astro_slam.msgs.time import header_ns, stamp_to_ns
from astro_slam.types import GridMap


def from_occupancy_grid(msg: Any) -> GridMap:
    info = msg.info
    width, height = int(info.width), int(info.height)
    data = as_numpy(msg.data, np.int8)
    if data.size != width * height:
        raise InvalidMessage(f'grid has {data.size} cells, expected {width}x{height}')
    resolution = float(require_finite([info.resolution], 'grid resolution')[0])
    if resolution <= 0:
        raise InvalidMessage(f'grid resolution {resolution} is not positive')
    return GridMap(
        t_ns=header_ns(msg),
        frame_id=msg.header.frame_id,
        resolution_m=resolution,
        data=data.reshape(height, width).copy(),
        origin=pose_to_matrix(info.origin),
    )


def to_occupancy_grid(factory: MessageFactory, grid: GridMap, load_t_ns: int | None = None) -> Any:
    height, width = grid.data.shape
    return factory.make(
        'nav_msgs/msg/OccupancyGrid',
        header=factory.header(grid.t_ns, grid.frame_id),
        info=factory.make(
            'nav_msgs/msg/MapMetaData',
            map_load_time=factory.time(grid.t_ns if load_t_ns is None else load_t_ns),
            resolution=grid.resolution_m,
            width=width,
            height=height,
            origin=matrix_to_pose(factory, grid.origin),
        ),
        data=np.asarray(grid.data, dtype=np.int8).reshape(-1),
    )


def map_load_ns(msg: Any) -> int:
    return stamp_to_ns(msg.info.map_load_time)
