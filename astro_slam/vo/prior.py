"""The motion prior: base poses from an odometry topic, looked up at image stamps."""

from __future__ import annotations

import bisect
from collections import deque

import numpy as np

from astro_slam.transforms import interpolate, small_motion


class OdometryBuffer:
    """Recent (t_ns, T_odom_base, twist) with interpolation and a short extrapolation."""

    def __init__(self, horizon_s: float = 2.0, max_extrapolation_s: float = 0.2) -> None:
        self.samples: deque[tuple[int, np.ndarray, np.ndarray]] = deque()
        self.horizon_ns = int(horizon_s * 1e9)
        self.max_extrapolation_ns = int(max_extrapolation_s * 1e9)

    def add(self, t_ns: int, T: np.ndarray, twist: np.ndarray) -> None:
        if self.samples and t_ns <= self.samples[-1][0]:
            return  # stamp order is the dispatcher's job; keep the buffer sorted regardless
        self.samples.append((t_ns, T, twist))
        while self.samples and self.samples[0][0] < t_ns - self.horizon_ns:
            self.samples.popleft()

    def pose_at(self, t_ns: int) -> np.ndarray | None:
        """T_odom_base at t_ns, or None when the buffer cannot tell."""
        if not self.samples or t_ns < self.samples[0][0]:
            return None
        last_t, last_T, twist = self.samples[-1]
        if t_ns >= last_t:
            dt = (t_ns - last_t) * 1e-9
            if t_ns - last_t > self.max_extrapolation_ns:
                return None
            step = small_motion(twist[:3] * dt, twist[3:] * dt)
            return last_T @ step
        i = bisect.bisect_right([s[0] for s in self.samples], t_ns)
        (t0, T0, _), (t1, T1, _) = self.samples[i - 1], self.samples[i]
        return interpolate(T0, T1, (t_ns - t0) / max(t1 - t0, 1))
