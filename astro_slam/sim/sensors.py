"""IMU and wheel encoders derived from the one true motion, with the faults real ones have.

IMU: specific force and angular rate of the true pose, averaged over each sample period (the
anti-alias filter), plus bias random walk and white noise, clipped to the range (±2 g,
±250 deg/s). Wheels: encoder ticks of the wheels' own turning (which slips on rugs and spins
when lifted), integrated into odometry with slightly wrong radii, as a base driver does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from astro_slam.sim.motion import RATE_HZ, Motion

GRAVITY_M_S2 = 9.80665


@dataclass(frozen=True)
class ImuSpec:
    rate_hz: float = 200.0
    gyro_noise_rad_s: float = 0.003  # per sample
    accel_noise_m_s2: float = 0.03
    gyro_bias_walk: float = 2e-4  # rad/s per sqrt(s)
    accel_bias_walk: float = 2e-3  # m/s^2 per sqrt(s)
    gyro_bias_init: float = 0.003
    accel_bias_init: float = 0.03
    accel_range_m_s2: float = 2 * GRAVITY_M_S2
    gyro_range_rad_s: float = np.radians(250.0)


@dataclass(frozen=True)
class WheelSpec:
    rate_hz: float = 50.0
    radius_m: float = 0.035
    track_m: float = 0.23
    ticks_per_rev: int = 4096
    # True radius vs the driver's, per wheel: a 0.15 % mismatch turns ~0.4 deg per metre driven.
    radius_error: tuple[float, float] = (0.001, -0.0005)


def true_rotations(motion: Motion) -> Rotation:
    """R_map_base of every step (yaw, then pitch; the base does not roll)."""
    return Rotation.from_euler('ZY', np.stack([motion.yaw, motion.pitch], axis=1))


def true_positions(motion: Motion) -> np.ndarray:
    return np.column_stack([motion.xy, motion.z])


@dataclass
class ImuSeries:
    t_s: np.ndarray
    gyro: np.ndarray  # (N, 3) rad/s, body frame
    accel: np.ndarray  # (N, 3) m/s^2 specific force, body frame
    saturated: np.ndarray  # (N,) bool: a reading hit the range


def imu_readings(
    motion: Motion, spec: ImuSpec, rng: np.random.Generator, rate_hz: np.ndarray | None = None
) -> ImuSeries:
    """IMU samples at spec.rate_hz (or, per step, the rate given in `rate_hz`)."""
    dt = 1.0 / RATE_HZ
    R = true_rotations(motion)
    velocity = np.gradient(true_positions(motion), dt, axis=0)
    accel_world = np.gradient(velocity, dt, axis=0)
    force = R.inv().apply(accel_world + np.array([0.0, 0.0, GRAVITY_M_S2]))
    omega = (R[:-1].inv() * R[1:]).as_rotvec() / dt
    omega = np.vstack([omega, omega[-1:]])
    step = int(round(RATE_HZ / spec.rate_hz))
    starts = np.arange(0, len(motion) - step + 1, step)
    if rate_hz is not None:  # low-power mode: fewer samples, same anti-alias window
        keep = [starts[0]]
        for s in starts[1:]:
            if s - keep[-1] >= int(round(RATE_HZ / rate_hz[s])):
                keep.append(s)
        starts = np.array(keep)
    window = np.arange(step)
    gyro = omega[starts[:, None] + window].mean(axis=1)
    accel = force[starts[:, None] + window].mean(axis=1)
    t = motion.t_s[starts + step - 1]
    n = len(t)
    sample_dt = np.diff(t, prepend=t[0])
    gyro_bias = rng.normal(0, spec.gyro_bias_init, 3) + np.cumsum(
        rng.normal(0, 1, (n, 3)) * spec.gyro_bias_walk * np.sqrt(sample_dt)[:, None], axis=0
    )
    accel_bias = rng.normal(0, spec.accel_bias_init, 3) + np.cumsum(
        rng.normal(0, 1, (n, 3)) * spec.accel_bias_walk * np.sqrt(sample_dt)[:, None], axis=0
    )
    gyro = gyro + gyro_bias + rng.normal(0, spec.gyro_noise_rad_s, (n, 3))
    accel = accel + accel_bias + rng.normal(0, spec.accel_noise_m_s2, (n, 3))
    saturated = (np.abs(accel) >= spec.accel_range_m_s2).any(axis=1) | (
        np.abs(gyro) >= spec.gyro_range_rad_s
    ).any(axis=1)
    return ImuSeries(
        t,
        np.clip(gyro, -spec.gyro_range_rad_s, spec.gyro_range_rad_s),
        np.clip(accel, -spec.accel_range_m_s2, spec.accel_range_m_s2),
        saturated,
    )


@dataclass
class WheelSeries:
    t_s: np.ndarray
    ticks: np.ndarray  # (N, 2) left, right encoder counts
    pose: np.ndarray  # (N, 3) x, y, yaw in the odom frame, as the driver integrates it
    twist: np.ndarray  # (N, 2) v, w


def wheel_odometry(motion: Motion, spec: WheelSpec) -> WheelSeries:
    """Encoder ticks at spec.rate_hz and the driver's dead-reckoned odometry from them."""
    dt = 1.0 / RATE_HZ
    half = spec.track_m / 2
    true_r = spec.radius_m * (1.0 + np.array(spec.radius_error))
    wheel_rate = np.stack(
        [
            (motion.wheel_v - motion.wheel_w * half) / true_r[0],
            (motion.wheel_v + motion.wheel_w * half) / true_r[1],
        ],
        axis=1,
    )
    angle = np.cumsum(wheel_rate * dt, axis=0)
    step = int(round(RATE_HZ / spec.rate_hz))
    index = np.arange(step - 1, len(motion), step)
    ticks = np.floor(angle[index] * spec.ticks_per_rev / (2 * np.pi)).astype(np.int64)
    distance = np.diff(ticks, axis=0, prepend=np.zeros((1, 2), np.int64)) * (
        2 * np.pi * spec.radius_m / spec.ticks_per_rev
    )
    ds = distance.mean(axis=1)
    dyaw = (distance[:, 1] - distance[:, 0]) / spec.track_m
    yaw = np.cumsum(dyaw)
    mid = yaw - dyaw / 2
    x = np.cumsum(ds * np.cos(mid))
    y = np.cumsum(ds * np.sin(mid))
    period = step * dt
    return WheelSeries(
        motion.t_s[index],
        ticks,
        np.stack([x, y, yaw], axis=1),
        np.stack([ds / period, dyaw / period], axis=1),
    )
