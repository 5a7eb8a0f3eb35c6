"""Sensor faults with ground-truth intervals: slip, kidnap, low power, dropped frames, jitter.

Bumps need no injection: door thresholds are in the world, and their labels come from the
motion's threshold crossings and the IMU samples that actually hit the accelerometer's range.
"""

from __future__ import annotations

import numpy as np

from astro_slam.sim.home import Home, Zone
from astro_slam.sim.motion import Motion
from astro_slam.sim.sensors import ImuSeries


def intervals(mask: np.ndarray, t_s: np.ndarray, merge_gap_s: float = 0.5) -> list[tuple]:
    """(t0, t1) of the runs of True in mask, runs closer than merge_gap_s joined."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    runs = [
        (float(t_s[a]), float(t_s[min(b, len(t_s)) - 1]))
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]
    merged: list[tuple[float, float]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] <= merge_gap_s:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def wet_floor(home: Home, rng: np.random.Generator) -> Zone:
    """A slippery patch in the middle of a room (the kitchen if there is one)."""
    rooms = [r for r in home.rooms if r.kind == 'kitchen'] or home.rooms[1:]
    cx, cy = rooms[int(rng.integers(len(rooms)))].center
    return Zone('slip', (cx - 0.8, cy - 0.8, cx + 0.8, cy + 0.8), 'wet floor')


def apply_slip(motion: Motion, zones: list[Zone], rng: np.random.Generator) -> list[dict]:
    """Wheels over-report motion in slip zones; returns the labelled intervals."""
    labels = []
    moving = (np.abs(motion.v) > 0.02) | (np.abs(motion.w) > 0.05)
    for zone in zones:
        if zone.kind != 'slip':
            continue
        x0, y0, x1, y1 = zone.rect
        inside = (
            (motion.xy[:, 0] > x0)
            & (motion.xy[:, 0] < x1)
            & (motion.xy[:, 1] > y0)
            & (motion.xy[:, 1] < y1)
            & ~motion.lifted
        )
        slipping = inside & moving
        if not slipping.any():
            continue
        gain_v, gain_w = rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.5)
        motion.wheel_v[slipping] = motion.v[slipping] * (1 + gain_v)
        motion.wheel_w[slipping] = motion.w[slipping] * (1 + gain_w)
        for t0, t1 in intervals(slipping, motion.t_s):
            labels.append(
                {
                    'kind': 'slip',
                    't0_s': t0,
                    't1_s': t1,
                    'zone': zone.label,
                    'speed_gain': float(gain_v),
                    'turn_gain': float(gain_w),
                }
            )
    return labels


def bump_labels(motion: Motion, imu: ImuSeries) -> list[dict]:
    """Threshold crossings whose impact saturated the accelerometer."""
    labels = []
    for event in motion.events:
        if event['kind'] != 'threshold':
            continue
        near = (imu.t_s >= event['t0_s'] - 0.05) & (imu.t_s <= event['t1_s'] + 0.05)
        labels.append(
            {
                'kind': 'bump',
                't0_s': event['t0_s'],
                't1_s': event['t1_s'],
                'door': event['door'],
                'height_m': event['height_m'],
                'saturated': bool(imu.saturated[near].any()),
            }
        )
    return _merge(labels, 1.0)


def _merge(labels: list[dict], gap_s: float) -> list[dict]:
    merged: list[dict] = []
    for label in sorted(labels, key=lambda x: x['t0_s']):
        if merged and label['t0_s'] - merged[-1]['t1_s'] <= gap_s:
            merged[-1]['t1_s'] = max(merged[-1]['t1_s'], label['t1_s'])
            merged[-1]['saturated'] = merged[-1]['saturated'] or label['saturated']
        else:
            merged.append(dict(label))
    return merged


def low_power_window(duration_s: float) -> tuple[float, float]:
    start = 0.6 * duration_s
    return start, min(duration_s, start + 15.0)


def imu_rate(
    motion: Motion, window: tuple[float, float] | None, normal_hz: float, slow_hz: float = 50.0
) -> np.ndarray:
    rate = np.full(len(motion), normal_hz)
    if window:
        rate[(motion.t_s >= window[0]) & (motion.t_s < window[1])] = slow_hz
    return rate


def dropped_frames(n_frames: int, camera_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Frames lost: 3 % at random and one burst of a second."""
    dropped = rng.random(n_frames) < 0.03
    burst = int(rng.integers(n_frames // 4, max(n_frames // 4 + 1, 3 * n_frames // 4)))
    dropped[burst : burst + int(camera_hz)] = True
    return dropped
