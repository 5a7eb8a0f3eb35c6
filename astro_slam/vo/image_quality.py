"""How usable an image is (brightness, contrast, blur, sensor noise) and the photometric
normalisation for dim images.

The numbers go to /vo/status so that fusion and people can see why tracking degraded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class ImageQuality:
    brightness: float  # mean grey level, 0..255
    contrast: float  # standard deviation of grey levels
    sharpness: float  # variance of the Laplacian over the contrast: blur lowers it
    noise: float = 0.0  # sensor noise sigma, grey levels (noise_sigma)

    def problem(self, min_brightness: float, min_contrast: float, min_sharpness: float) -> str:
        """'' when the image is usable, else why not: too_dark, blank or blurred."""
        if self.brightness < min_brightness:
            return 'too_dark'
        if self.contrast < min_contrast:
            return 'blank'
        if self.sharpness < min_sharpness:
            return 'blurred'
        return ''


# Immerkaer's mask: the difference of two Laplacians, blind to a locally linear image.
_NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def noise_sigma(gray: np.ndarray) -> float:
    """Sensor noise sigma of a grey image, in grey levels (J. Immerkaer, "Fast noise variance
    estimation", 1996). Edges and fine texture add a little: about 1.5 on simulated daylight
    images, 20 on the same camera at its gain limit at night."""
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    response = cv2.filter2D(gray, cv2.CV_16S, _NOISE_MASK)[1:-1, 1:-1]  # at most 16 * 255
    return float(np.sqrt(np.pi / 2) * cv2.norm(response, cv2.NORM_L1) / response.size / 6)


def denoise_sigma_px(noise: float, target_noise: float, max_px: float) -> float:
    """Gaussian sigma that brings white noise of `noise` down to `target_noise` (a Gaussian of
    sigma s divides it by 2 s sqrt(pi)), at most max_px; 0 when the noise is at the target or
    the target is 0 (off). Rounded to quarter pixels, so that frames of one scene share it."""
    if target_noise <= 0 or noise <= target_noise:
        return 0.0
    sigma = noise / (2 * np.sqrt(np.pi) * target_noise)
    return float(min(max_px, np.round(sigma * 4) / 4))


def measure(gray: np.ndarray) -> ImageQuality:
    """Quality of an 8-bit grey image: brightness, contrast and sharpness on a half-size copy
    (cheap, and noise matters less), noise on the full image (halving averages it away)."""
    small = cv2.resize(
        gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA
    )
    mean, std = cv2.meanStdDev(small)
    contrast = float(std[0, 0])
    laplacian = cv2.Laplacian(small, cv2.CV_32F)
    # Normalised by the contrast so that a dim but sharp image is not called blurred.
    sharpness = float(laplacian.var()) / max(contrast, 1.0) ** 2
    return ImageQuality(float(mean[0, 0]), contrast, sharpness, noise_sigma(gray))


class Normaliser:
    """CLAHE (contrast-limited adaptive histogram equalisation), or nothing, after an optional
    Gaussian smoothing.

    CLAHE lifts dim images into the range where FAST finds corners, and equalises local contrast
    so that descriptors of one place look alike under different light. It lifts the noise of a
    camera at its gain limit too, and on such images FAST fires on noise and the stereo match
    fails its forward-backward check; smoothing first (denoise_sigma_px) keeps the corners of
    the scene. The VO alone on the demo's night (noise about 20): 12 % of the frames tracked
    raw, 85 % smoothed (2 px; docs/BENCHMARKS.md).
    """

    def __init__(self, method: str, clip_limit: float = 2.0, tiles: int = 8) -> None:
        if method not in ('clahe', 'none'):
            raise ValueError(f"normalisation must be 'clahe' or 'none', not {method!r}")
        self.clahe = cv2.createCLAHE(clip_limit, (tiles, tiles)) if method == 'clahe' else None

    def __call__(self, gray: np.ndarray, smoothing_px: float = 0.0) -> np.ndarray:
        if smoothing_px > 0:
            gray = cv2.GaussianBlur(gray, (0, 0), smoothing_px)
        return self.clahe.apply(gray) if self.clahe is not None else gray


def as_vo_sees(
    images: Sequence[np.ndarray], normaliser: Normaliser, target_noise: float, max_px: float
) -> list[np.ndarray]:
    """Images of one frame (left first, then the right one if any) as the VO's features and
    stereo see them: all smoothed as the first one's noise asks, then normalised (the tracker
    does the same, from the noise it measured anyway)."""
    if not images:
        return []
    smoothing = denoise_sigma_px(noise_sigma(images[0]), target_noise, max_px)
    return [normaliser(image, smoothing) for image in images]
