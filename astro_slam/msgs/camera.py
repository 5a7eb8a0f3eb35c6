"""sensor_msgs/CameraInfo <-> CameraModel (intrinsics, distortion, rectification, projection)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from astro_slam.msgs.errors import InvalidMessage, require_finite
from astro_slam.msgs.factory import MessageFactory
from astro_slam.msgs.time import header_ns


@dataclass(frozen=True)
class CameraModel:
    """A calibrated camera as ROS describes it (REP-104).

    K (3, 3) intrinsics of the raw image, D distortion, R (3, 3) rectification rotation,
    P (3, 4) projection of the rectified image; for the right camera of a stereo pair
    P[0, 3] = -fx * baseline.
    """

    width: int
    height: int
    K: np.ndarray
    D: np.ndarray = field(default_factory=lambda: np.zeros(5))
    R: np.ndarray = field(default_factory=lambda: np.eye(3))
    P: np.ndarray | None = None
    distortion_model: str = 'plumb_bob'
    frame_id: str = ''

    @property
    def projection(self) -> np.ndarray:
        """P, or [K | 0] when the camera info carried none."""
        return self.P if self.P is not None else np.hstack([self.K, np.zeros((3, 1))])

    @property
    def fx(self) -> float:
        return float(self.K[0, 0])

    @property
    def fy(self) -> float:
        return float(self.K[1, 1])

    @property
    def cx(self) -> float:
        return float(self.K[0, 2])

    @property
    def cy(self) -> float:
        return float(self.K[1, 2])

    @property
    def baseline_m(self) -> float:
        """Stereo baseline from this (right) camera's P; 0 for a left or monocular camera."""
        P = self.projection
        return float(-P[0, 3] / P[0, 0])

    @property
    def is_distorted(self) -> bool:
        return bool(np.any(self.D != 0))


def camera_info_to_model(msg: Any) -> CameraModel:
    """CameraModel from a CameraInfo.

    Raises:
        InvalidMessage: an uncalibrated camera (K all zero), non-finite values, zero size.
    """
    header_ns(msg)  # validates the stamp
    K = require_finite(msg.k, 'camera_info K').reshape(3, 3)
    if K[0, 0] <= 0 or K[1, 1] <= 0:
        raise InvalidMessage('camera_info has no calibration (K[0,0] or K[1,1] <= 0)')
    if int(msg.width) <= 0 or int(msg.height) <= 0:
        raise InvalidMessage(f'camera_info has zero size {msg.width}x{msg.height}')
    R = require_finite(msg.r, 'camera_info R').reshape(3, 3)
    P = require_finite(msg.p, 'camera_info P').reshape(3, 4)
    return CameraModel(
        width=int(msg.width),
        height=int(msg.height),
        K=K,
        D=require_finite(msg.d, 'camera_info D'),
        R=R if np.any(R) else np.eye(3),
        P=P if P[0, 0] > 0 else None,
        distortion_model=str(msg.distortion_model) or 'plumb_bob',
        frame_id=str(msg.header.frame_id),
    )


def model_to_camera_info(factory: MessageFactory, model: CameraModel, t_ns: int) -> Any:
    return factory.make(
        'sensor_msgs/msg/CameraInfo',
        header=factory.header(t_ns, model.frame_id),
        height=model.height,
        width=model.width,
        distortion_model=model.distortion_model,
        d=np.asarray(model.D, dtype=float),
        k=model.K.reshape(9),
        r=model.R.reshape(9),
        p=model.projection.reshape(12),
    )
