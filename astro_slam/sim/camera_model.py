"""The camera as a sensor: auto-exposure within limits, gain, noise that grows in the dark.

Radiance from the renderer is scaled by exposure time and analog gain, gets shot and read
noise (read noise amplified by the gain, so dark frames are grainy), and is quantised to 8 bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class ExposureConfig:
    target_mean: float = 0.42  # wanted mean brightness, fraction of full scale
    max_exposure: float = 4.0  # longest exposure, relative to the nominal one (motion blur cap)
    max_gain: float = 16.0
    read_noise_dn: float = 1.0  # at gain 1, in 8-bit digital numbers
    shot_noise: float = 0.35  # shot noise sigma = shot_noise * sqrt(signal_dn)
    adaptation: float = 0.5  # share of the exposure error corrected per frame


class CameraSensor:
    """Turns radiance frames into 8-bit BGR images; keeps its auto-exposure state.

    Args:
        config: exposure limits and noise.
        seed: the noise seed; frame i's noise depends only on (seed, i, camera index).
    """

    def __init__(self, config: ExposureConfig = ExposureConfig(), seed: int = 0) -> None:
        self.config = config
        self.seed = seed
        self.exposure = 1.0
        self.gain = 1.0

    def capture(self, radiance: np.ndarray, frame: int, camera: int = 0) -> np.ndarray:
        """(H, W, 3) uint8 BGR from RGB radiance, at the current exposure and gain."""
        c = self.config
        signal = cv2.cvtColor(radiance, cv2.COLOR_RGB2BGR)
        signal *= np.float32(255.0 * self.exposure * self.gain)
        luminance = cv2.cvtColor(signal, cv2.COLOR_BGR2GRAY)
        variance = np.maximum(luminance, 0.0)
        variance *= np.float32(c.shot_noise**2 * self.gain)
        variance += np.float32((c.read_noise_dn * self.gain) ** 2)
        rng = np.random.default_rng([self.seed, frame, camera])
        # One noise field for the three channels: demosaicing correlates them anyway.
        noise = rng.standard_normal(luminance.shape, dtype=np.float32)
        noise *= cv2.sqrt(variance)
        signal += noise[:, :, None]
        signal += np.float32(0.5)
        return np.clip(signal, 0, 255, out=signal).astype(np.uint8)

    def adapt(self, image: np.ndarray) -> None:
        """Auto-exposure step from the last image: exposure first, then gain, both capped."""
        c = self.config
        mean = max(float(image[::4, ::4].mean()) / 255.0, 1e-3)  # metering on a coarse grid
        wanted = self.exposure * self.gain * (c.target_mean / mean) ** c.adaptation
        wanted = float(np.clip(wanted, 0.05, c.max_exposure * c.max_gain))
        self.exposure = min(wanted, c.max_exposure)
        self.gain = max(1.0, wanted / self.exposure)
