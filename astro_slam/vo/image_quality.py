"""How usable an image is (brightness, contrast, blur) and the photometric normalisation for dim
images.

The numbers go to /vo/status so that fusion and people can see why tracking degraded.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class ImageQuality:
    brightness: float  # mean grey level, 0..255
    contrast: float  # standard deviation of grey levels
    sharpness: float  # variance of the Laplacian over the contrast: blur lowers it

    def problem(self, min_brightness: float, min_contrast: float, min_sharpness: float) -> str:
        """'' when the image is usable, else why not: too_dark, blank or blurred."""
        if self.brightness < min_brightness:
            return 'too_dark'
        if self.contrast < min_contrast:
            return 'blank'
        if self.sharpness < min_sharpness:
            return 'blurred'
        return ''


def measure(gray: np.ndarray) -> ImageQuality:
    """Quality of an 8-bit grey image, on a half-size copy (cheap, and noise matters less)."""
    small = cv2.resize(
        gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA
    )
    mean, std = cv2.meanStdDev(small)
    contrast = float(std[0, 0])
    laplacian = cv2.Laplacian(small, cv2.CV_32F)
    # Normalised by the contrast so that a dim but sharp image is not called blurred.
    sharpness = float(laplacian.var()) / max(contrast, 1.0) ** 2
    return ImageQuality(float(mean[0, 0]), contrast, sharpness)


class Normaliser:
    """CLAHE (contrast-limited adaptive histogram equalisation), or nothing.

    CLAHE lifts dim images into the range where FAST finds corners, and equalises local contrast
    so that descriptors of one place look alike under different light.
    """

    def __init__(self, method: str, clip_limit: float = 2.0, tiles: int = 8) -> None:
        if method not in ('clahe', 'none'):
            raise ValueError(f"normalisation must be 'clahe' or 'none', not {method!r}")
        self.clahe = cv2.createCLAHE(clip_limit, (tiles, tiles)) if method == 'clahe' else None

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        return self.clahe.apply(gray) if self.clahe is not None else gray
