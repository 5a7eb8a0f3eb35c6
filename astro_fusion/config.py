"""Parameters of the fusion node (each field is a ROS parameter of the same name)."""

from __future__ import annotations

from dataclasses import dataclass

from astro_slam.framework.config import param


@dataclass(frozen=True)
class FusionConfig:
    odom_frame: str = param('odom', 'Frame of /odometry/filtered and TF parent (REP-105).')
    base_frame: str = param('base_link', 'Robot body frame; the IMU extrinsics come from TF.')
    publish_tf: bool = param(True, 'Broadcast odom -> base_link on /tf.')
    publish_rate_hz: float = param(50.0, 'Rate of /odometry/filtered and TF.', unit='Hz')
    reliability_rate_hz: float = param(5.0, 'Rate of /fusion/reliability.', unit='Hz')
    max_correction_speed: float = param(
        0.25,
        'Position corrections enter the published odometry at most this fast; the rest waits, '
        'counted in the published covariance, so that odom never jumps (REP-105).',
        unit='m/s',
    )
    use_base_hints: bool = param(
        True,
        "Follow the base's robot/wheel_drop and robot/low_power flags once they arrive; "
        'without them, lift and low power are told from the data.',
    )
    use_vo: bool = param(True, 'Fuse /vo/odometry (its twist) when VO reports tracking.')
    gating: bool = param(
        True,
        'Chi-square gating of every update and the fault monitors; false gives naive fusion '
        '(for comparison only).',
    )
    # IMU
    imu_rate_hz: float = param(
        200.0, 'Nominal IMU rate: low-power mode is told by a drop.', unit='Hz'
    )
    gyro_noise: float = param(
        0.0005, 'Gyro white noise density (datasheet).', unit='rad/s/sqrt(Hz)'
    )
    accel_noise: float = param(
        0.004, 'Accelerometer white noise density (datasheet).', unit='m/s^2/sqrt(Hz)'
    )
    gyro_bias_walk: float = param(2e-4, 'Gyro bias random walk.', unit='rad/s^2/sqrt(Hz)')
    accel_bias_walk: float = param(2e-3, 'Accelerometer bias random walk.', unit='m/s^3/sqrt(Hz)')
    accel_range_m_s2: float = param(
        19.6, "Accelerometer full scale (the driver's range setting).", unit='m/s^2'
    )
    gyro_range_rad_s: float = param(4.36, 'Gyro full scale.', unit='rad/s')
    saturation_margin: float = param(
        0.98, 'A reading at this share of full scale or more counts as clipped.'
    )
    saturation_hold_s: float = param(
        0.2, 'IMU updates skipped this long after the last clipped reading.', unit='s'
    )
    max_imu_gap_s: float = param(
        0.5,
        'A longer IMU gap is not integrated: the state is held and its covariance grown.',
        unit='s',
    )
    # Wheels
    wheel_speed_sigma: float = param(0.02, 'Wheel speed noise plus 5 % of the speed.', unit='m/s')
    wheel_yaw_rate_sigma: float = param(0.02, 'Wheel yaw-rate noise.', unit='rad/s')
    wheel_yaw_rate_scale: float = param(
        0.2,
        'Wheel yaw-rate noise per m/s of speed: unequal wheel radii turn the odometry while '
        'driving straight, a systematic error the gyro bias must not absorb.',
        unit='rad/m',
    )
    nonholonomic_sigma: float = param(
        0.02,
        'Allowed lateral and vertical base velocity (the wheels do not slide sideways).',
        unit='m/s',
    )
    slip_yaw_rate_threshold: float = param(
        0.08,
        'Wheels against gyro yaw rate, averaged over slip_window_s: above this plus 15 % of '
        "the wheels' mean rate over the same window, the wheels are slipping.",
        unit='rad/s',
    )
    slip_speed_threshold: float = param(
        0.05,
        'Wheels against VO speed, averaged over slip_window_s: above this plus 15 % of the '
        "wheels' mean speed over the same window, the wheels are slipping.",
        unit='m/s',
    )
    slip_speed_inflation: float = param(
        0.5,
        'While slipping, wheel speed noise is wheel_speed_sigma plus this share of the speed '
        '(instead of 5 %): kept as a loose bound, never trusted.',
    )
    slip_window_s: float = param(0.4, 'Averaging window of the slip tests.', unit='s')
    slip_hold_s: float = param(
        3.0,
        'Wheels found slipping stay flagged while no witness judges them (VO lost or the '
        'camera off, a turn over), until VO judges them again, the wheels stop, or this long '
        'after the last evidence: a wet floor does not dry when the camera looks away. For '
        'as long after the last evidence, their turn rate stays out of the gyro bias.',
        unit='s',
    )
    crossing_tilt_rate: float = param(
        0.1,
        'Roll or pitch rate above which the base is crossing a threshold (a floor robot '
        'otherwise turns about its vertical only, under 0.02 rad/s of noise): the slip tests '
        'pause through it and for slip_window_s after, since wheels, gyro and VO all see the '
        'jolt differently.',
        unit='rad/s',
    )
    # Zero velocity
    zero_velocity_gyro: float = param(
        0.03, 'Gyro norm under which (with still wheels) the robot stands still.', unit='rad/s'
    )
    zero_velocity_accel: float = param(
        0.3, 'Accelerometer norm distance from g under which it stands still.', unit='m/s^2'
    )
    # Lift
    lift_height_m: float = param(
        0.05,
        'Without a wheel-drop hint: the base rising this much above the floor means lifted '
        '(door thresholds are 1-2 cm).',
        unit='m',
    )
    put_down_still_s: float = param(
        0.3,
        'Without a wheel-drop hint: back down and vertically still this long means put down.',
        unit='s',
    )
    # VO
    vo_silent_s: float = param(
        0.5, 'No /vo/status or /vo/odometry for this long: VO is silent.', unit='s'
    )
    # Gating
    gate_probability: float = param(
        0.999, 'Chi-square quantile of the innovation gates (per update dimension).'
    )
