"""sensor_msgs/Imu <-> ImuSample."""

from __future__ import annotations

from typing import Any

import numpy as np

from astro_slam.msgs.errors import require_finite
from astro_slam.msgs.factory import MessageFactory
from astro_slam.msgs.poses import vector3
from astro_slam.msgs.time import header_ns
from astro_slam.types import ImuSample


def _xyz(v: Any, what: str) -> np.ndarray:
    return require_finite([v.x, v.y, v.z], what)


def from_imu(msg: Any) -> ImuSample:
    """ImuSample; orientation is None when the driver marks it absent (covariance[0] == -1)."""
    orientation_cov = require_finite(msg.orientation_covariance, 'orientation covariance')
    q = msg.orientation
    orientation = None
    if orientation_cov[0] != -1:
        orientation = require_finite([q.x, q.y, q.z, q.w], 'orientation')
        if np.linalg.norm(orientation) < 1e-6:  # drivers without orientation often send zeros
            orientation = None
    return ImuSample(
        t_ns=header_ns(msg),
        frame_id=msg.header.frame_id,
        angular_velocity=_xyz(msg.angular_velocity, 'angular velocity'),
        linear_acceleration=_xyz(msg.linear_acceleration, 'linear acceleration'),
        orientation_xyzw=orientation,
        angular_velocity_covariance=require_finite(
            msg.angular_velocity_covariance, 'angular velocity covariance'
        ).reshape(3, 3),
        linear_acceleration_covariance=require_finite(
            msg.linear_acceleration_covariance, 'linear acceleration covariance'
        ).reshape(3, 3),
        orientation_covariance=orientation_cov.reshape(3, 3),
    )


def to_imu(factory: MessageFactory, imu: ImuSample) -> Any:
    orientation_cov = np.asarray(imu.orientation_covariance, dtype=float).reshape(9).copy()
    q = np.array([0.0, 0.0, 0.0, 1.0])
    if imu.orientation_xyzw is None:
        orientation_cov[0] = -1.0
    else:
        q = imu.orientation_xyzw
    return factory.make(
        'sensor_msgs/msg/Imu',
        header=factory.header(imu.t_ns, imu.frame_id),
        orientation=factory.make('geometry_msgs/msg/Quaternion', x=q[0], y=q[1], z=q[2], w=q[3]),
        orientation_covariance=orientation_cov,
        angular_velocity=vector3(factory, imu.angular_velocity),
        angular_velocity_covariance=np.asarray(imu.angular_velocity_covariance).reshape(9),
        linear_acceleration=vector3(factory, imu.linear_acceleration),
        linear_acceleration_covariance=np.asarray(imu.linear_acceleration_covariance).reshape(9),
    )
