"""sensor_msgs/Image and CompressedImage <-> numpy (colour images as OpenCV BGR)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from astro_slam.msgs.errors import InvalidMessage
from astro_slam.msgs.factory import MessageFactory, as_numpy

# encoding -> (dtype, channels). 16UC1 depth is millimetres, 32FC1 depth metres (REP-118).
ENCODINGS: dict[str, tuple[type, int]] = {
    'mono8': (np.uint8, 1),
    '8UC1': (np.uint8, 1),
    'mono16': (np.uint16, 1),
    '16UC1': (np.uint16, 1),
    '32FC1': (np.float32, 1),
    'bgr8': (np.uint8, 3),
    'rgb8': (np.uint8, 3),
    '8UC3': (np.uint8, 3),
    'bgra8': (np.uint8, 4),
    'rgba8': (np.uint8, 4),
}


def image_to_numpy(msg: Any) -> np.ndarray:
    """Pixels of an Image as (H, W) or (H, W, C) in the message's own channel order.

    Raises:
        InvalidMessage: unknown encoding, or a size, step or buffer that does not add up.
    """
    encoding = str(msg.encoding)
    if encoding not in ENCODINGS:
        raise InvalidMessage(f'unsupported image encoding {encoding!r}')
    dtype, channels = ENCODINGS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    pixel_bytes = np.dtype(dtype).itemsize * channels
    if height <= 0 or width <= 0 or step < width * pixel_bytes:
        raise InvalidMessage(f'bad image geometry {width}x{height} step {step} ({encoding})')
    data = as_numpy(msg.data, np.uint8)
    if data.size < step * height:
        raise InvalidMessage(f'image buffer has {data.size} bytes, expected {step * height}')
    rows = data[: step * height].reshape(height, step)[:, : width * pixel_bytes]
    order = '>' if msg.is_bigendian else '<'
    pixels = np.ascontiguousarray(rows).view(np.dtype(dtype).newbyteorder(order))
    pixels = pixels.astype(dtype, copy=False).reshape(height, width, channels)
    return pixels[:, :, 0] if channels == 1 else pixels


def image_to_bgr_or_gray(msg: Any) -> np.ndarray:
    """An 8-bit image as OpenCV wants it: (H, W) grey or (H, W, 3) BGR."""
    pixels = image_to_numpy(msg)
    conversions = {
        'rgb8': cv2.COLOR_RGB2BGR,
        'rgba8': cv2.COLOR_RGBA2BGR,
        'bgra8': cv2.COLOR_BGRA2BGR,
    }
    if msg.encoding in conversions:
        return cv2.cvtColor(pixels, conversions[msg.encoding])
    if pixels.dtype != np.uint8:
        raise InvalidMessage(f'{msg.encoding} is not an 8-bit image')
    return pixels


def depth_to_metres(msg: Any) -> np.ndarray:
    """Depth (H, W) float32 in metres from 16UC1 (mm) or 32FC1 (m); invalid pixels are NaN."""
    pixels = image_to_numpy(msg)
    if msg.encoding in ('16UC1', 'mono16'):
        depth = pixels.astype(np.float32) * 1e-3
        depth[pixels == 0] = np.nan
        return depth
    if msg.encoding == '32FC1':
        depth = pixels.astype(np.float32, copy=True)
        depth[~np.isfinite(depth) | (depth <= 0)] = np.nan
        return depth
    raise InvalidMessage(f'{msg.encoding!r} is not a depth encoding (16UC1 or 32FC1)')


def numpy_to_image(
    factory: MessageFactory, pixels: np.ndarray, encoding: str, t_ns: int, frame_id: str
) -> Any:
    """An Image from (H, W) or (H, W, C) pixels whose dtype and channels match `encoding`."""
    if encoding not in ENCODINGS:
        raise ValueError(f'unsupported image encoding {encoding!r}')
    dtype, channels = ENCODINGS[encoding]
    shape_ok = pixels.ndim == 2 if channels == 1 else pixels.shape[2:] == (channels,)
    if pixels.dtype != dtype or not shape_ok:
        raise ValueError(f'{pixels.dtype} {pixels.shape} pixels do not match {encoding}')
    pixels = np.ascontiguousarray(pixels.astype(np.dtype(dtype).newbyteorder('<')))
    height, width = pixels.shape[:2]
    return factory.make(
        'sensor_msgs/msg/Image',
        header=factory.header(t_ns, frame_id),
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=0,
        step=width * pixels.itemsize * channels,
        data=pixels.view(np.uint8).reshape(-1),
    )


def compressed_to_numpy(msg: Any) -> np.ndarray:
    """Decodes a CompressedImage (jpeg, png, or compressedDepth png) to grey, BGR or 16-bit."""
    data = as_numpy(msg.data, np.uint8)
    if 'compressedDepth' in str(msg.format):
        if '16UC1' not in str(msg.format) or 'png' not in str(msg.format):
            raise InvalidMessage(f'unsupported compressedDepth format {msg.format!r}')
        data = data[12:]  # image_transport's ConfigHeader: format and quantisation
    pixels = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if pixels is None:
        raise InvalidMessage(f'corrupt compressed image (format {msg.format!r})')
    return pixels


def numpy_to_compressed(
    factory: MessageFactory, pixels: np.ndarray, t_ns: int, frame_id: str, fmt: str = 'png'
) -> Any:
    """A CompressedImage; png keeps 16-bit depth lossless, jpeg only 8-bit."""
    ok, encoded = cv2.imencode(f'.{fmt}', pixels)
    if not ok:
        raise ValueError(f'OpenCV could not encode {pixels.dtype} {pixels.shape} as {fmt}')
    return factory.make(
        'sensor_msgs/msg/CompressedImage',
        header=factory.header(t_ns, frame_id),
        format=fmt,
        data=encoded.reshape(-1),
    )
