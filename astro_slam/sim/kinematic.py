"""A kinematic differential-drive run: wheel odometry, IMU and ground truth, no camera.

The robot drives a rounded-rectangle patrol at bounded speed and acceleration. Wheel odometry
integrates the true wheel motion with per-wheel scale error and noise, so it drifts as real
encoders do; the IMU sees the true yaw rate and gravity with bias and noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astro_slam.transforms import make_transform
from astro_slam.types import ImuSample, OdometryEstimate, StampedTransform

GRAVITY_M_S2 = 9.80665


@dataclass(frozen=True)
class KinematicConfig:
    """A patrol around a width x height rectangle with rounded corners."""

    duration_s: float = 20.0
    rate_hz: float = 50.0
    width_m: float = 3.0
    height_m: float = 2.0
    speed_m_s: float = 0.4
    wheel_scale_error: tuple[float, float] = (0.01, -0.01)  # left, right
    wheel_noise_m_s: float = 0.005
    gyro_bias_rad_s: float = 0.002
    gyro_noise_rad_s: float = 0.003
    accel_noise_m_s2: float = 0.02
    track_m: float = 0.3
    seed: int = 0


@dataclass
class KinematicRun:
    stamps_ns: np.ndarray  # (N,)
    ground_truth: list[np.ndarray]  # T_odom_base, exact
    wheel: list[OdometryEstimate]
    imu: list[ImuSample]
    static_tf: list[StampedTransform]


def _yaw_rate_profile(config: KinematicConfig, n: int, dt: float) -> np.ndarray:
    """Straight segments joined by 90 degree turns, repeated around the rectangle."""
    turn_rate = 0.8  # rad/s
    turn_steps = round(np.pi / 2 / turn_rate / dt)
    sides = [config.width_m, config.height_m] * 2
    pattern: list[float] = []
    for side in sides:
        pattern += [0.0] * round(side / config.speed_m_s / dt) + [turn_rate] * turn_steps
    reps = int(np.ceil(n / len(pattern)))
    return np.array((pattern * reps)[:n])


def simulate_kinematic(config: KinematicConfig) -> KinematicRun:
    rng = np.random.default_rng(config.seed)
    dt = 1.0 / config.rate_hz
    n = int(config.duration_s * config.rate_hz)
    t_ns = (1_700_000_000 * 10**9 + np.arange(n) * round(dt * 1e9)).astype(np.int64)
    yaw_rate = _yaw_rate_profile(config, n, dt)
    # Ramp the speed up over the first second: a realistic start from the dock.
    speed = config.speed_m_s * np.clip(np.arange(n) * dt, 0.0, 1.0)
    speed = np.where(yaw_rate != 0, 0.1, speed)
    x = y = yaw = 0.0
    ox = oy = oyaw = 0.0
    run = KinematicRun(
        t_ns,
        [],
        [],
        [],
        [
            StampedTransform(
                int(t_ns[0]), 'base_link', 'imu_link', make_transform(t=[0.0, 0.0, 0.1])
            )
        ],
    )
    left_scale, right_scale = 1 + config.wheel_scale_error[0], 1 + config.wheel_scale_error[1]
    for i in range(n):
        v, w = speed[i], yaw_rate[i]
        v_left = (v - w * config.track_m / 2) * left_scale
        v_right = (v + w * config.track_m / 2) * right_scale
        v_left += rng.normal(0, config.wheel_noise_m_s)
        v_right += rng.normal(0, config.wheel_noise_m_s)
        v_odom, w_odom = (v_left + v_right) / 2, (v_right - v_left) / config.track_m
        x, y, yaw = x + v * np.cos(yaw) * dt, y + v * np.sin(yaw) * dt, yaw + w * dt
        ox, oy = ox + v_odom * np.cos(oyaw) * dt, oy + v_odom * np.sin(oyaw) * dt
        oyaw += w_odom * dt
        run.ground_truth.append(_planar(x, y, yaw))
        cov = np.diag([1e-4, 1e-4, 1e6, 1e6, 1e6, 1e-3])  # planar robot: z, roll, pitch unknown
        run.wheel.append(
            OdometryEstimate(
                int(t_ns[i]),
                'odom',
                'base_link',
                _planar(ox, oy, oyaw),
                cov,
                np.array([v_odom, 0, 0, 0, 0, w_odom]),
                cov,
            )
        )
        gyro = np.array([0.0, 0.0, w + config.gyro_bias_rad_s]) + rng.normal(
            0, config.gyro_noise_rad_s, 3
        )
        accel = np.array([0.0, 0.0, GRAVITY_M_S2]) + rng.normal(0, config.accel_noise_m_s2, 3)
        run.imu.append(
            ImuSample(
                int(t_ns[i]),
                'imu_link',
                gyro,
                accel,
                None,
                np.eye(3) * config.gyro_noise_rad_s**2,
                np.eye(3) * config.accel_noise_m_s2**2,
            )
        )
    return run


def _planar(x: float, y: float, yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return make_transform(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]), np.array([x, y, 0.0]))
