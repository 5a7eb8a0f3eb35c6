"""Images from messages to what the tracker wants: grey, rectified, metric depth.

Accepts raw `sensor_msgs/Image` and `CompressedImage` (JPEG/PNG, and compressedDepth), so the
same component runs on a live driver and on a bag recorded through image_transport.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from astro_slam.msgs.camera import CameraModel
from astro_slam.msgs.errors import InvalidMessage
from astro_slam.msgs.factory import msgtype_of
from astro_slam.msgs.image import compressed_to_numpy, depth_to_metres, image_to_bgr_or_gray

COMPRESSED = 'sensor_msgs/msg/CompressedImage'


def to_gray(msg: Any) -> np.ndarray:
    """8-bit grey pixels of an Image or CompressedImage."""
    pixels = (
        compressed_to_numpy(msg) if msgtype_of(msg) == COMPRESSED else image_to_bgr_or_gray(msg)
    )
    if pixels.dtype != np.uint8:
        raise InvalidMessage(f'expected an 8-bit image, got {pixels.dtype}')
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    return pixels


def to_depth_m(msg: Any) -> np.ndarray:
    """Depth in metres (NaN where invalid) of a depth Image or compressedDepth message."""
    if msgtype_of(msg) != COMPRESSED:
        return depth_to_metres(msg)
    pixels = compressed_to_numpy(msg)
    if pixels.dtype != np.uint16 or pixels.ndim != 2:
        raise InvalidMessage(f'compressed depth must be 16-bit single channel, got {pixels.dtype}')
    depth = pixels.astype(np.float32) * 1e-3
    depth[pixels == 0] = np.nan
    return depth


class Rectifier:
    """Undistorts and rectifies to the camera's P, or passes images through when they already
    are (no distortion, identity R): the common case of drivers that publish image_rect."""

    def __init__(self, model: CameraModel) -> None:
        self.model = model
        P = model.projection
        self.K = P[:3, :3].copy()
        self.maps = None
        if model.is_distorted or not np.allclose(model.R, np.eye(3)):
            self.maps = cv2.initUndistortRectifyMap(
                model.K, model.D, model.R, self.K, (model.width, model.height), cv2.CV_16SC2
            )

    def __call__(self, pixels: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
        if pixels.shape[:2] != (self.model.height, self.model.width):
            raise InvalidMessage(
                f'image is {pixels.shape[1]}x{pixels.shape[0]}, camera_info says '
                f'{self.model.width}x{self.model.height}'
            )
        if self.maps is None:
            return pixels
        return cv2.remap(pixels, *self.maps, interpolation)
