"""Fusion core on synthetic IMU and wheel streams with known truth and injected faults."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from astro_fusion.config import FusionConfig
from astro_fusion.core import FusionCore
from astro_fusion.reliability import DEGRADED, OK, REJECTED
from astro_slam.types import ImuSample, OdometryEstimate

G = 9.80665
IMU_HZ, WHEEL_HZ = 200, 50
RAMP_S = 0.2


def _pose(x: float, y: float, yaw: float) -> np.ndarray:
    T = np.eye(4)
    T[:2, :2] = [[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]]
    T[:2, 3] = x, y
    return T


def _drive(
    core,
    seconds,
    speed,
    yaw_rate,
    rng,
    wheel_gain=1.0,
    wheel_yaw_gain=1.0,
    t0=0,
    state=None,
    accel_override=None,
    tilt_rate=0.0,
    vo_hz=0,
):
    """Planar unicycle motion: feeds IMU at 200 Hz and wheel odometry at 50 Hz (and, with
    vo_hz, VO twists averaged over each frame interval, as the VO computes them); returns the
    truth state (x, y, yaw, wheel-integrated x, y, yaw, speed) at the end. Speed changes ramp
    over RAMP_S, with the acceleration the IMU then feels. tilt_rate adds a roll rate to the
    gyro (a threshold's jolt) that the accelerometer does not follow."""
    x, y, yaw, wx, wy, wyaw, v0 = state or (0.0,) * 7
    n = int(seconds * IMU_HZ)
    dt = 1.0 / IMU_HZ
    bias = np.array([0.002, -0.001, 0.003])
    ramp = int(RAMP_S * IMU_HZ)
    for i in range(1, n + 1):
        v = v0 + (speed - v0) * min(1.0, i / ramp)
        forward = (speed - v0) / RAMP_S if i <= ramp else 0.0
        x += v * np.cos(yaw) * dt
        y += v * np.sin(yaw) * dt
        yaw += yaw_rate * dt
        wx += v * wheel_gain * np.cos(wyaw) * dt
        wy += v * wheel_gain * np.sin(wyaw) * dt
        wyaw += yaw_rate * wheel_yaw_gain * dt
        t = t0 + int(i * 1e9 / IMU_HZ)
        accel = np.array([forward, v * yaw_rate, G]) if accel_override is None else accel_override
        gyro = np.array([tilt_rate, 0.0, yaw_rate]) + bias + rng.normal(0, 0.002, 3)
        core.on_imu(ImuSample(t, 'base_link', gyro, accel + rng.normal(0, 0.02, 3)), np.eye(3))
        if i % (IMU_HZ // WHEEL_HZ) == 0:
            core.on_wheel(OdometryEstimate(t, 'odom', 'base_link', _pose(wx, wy, wyaw)))
        if vo_hz and i % (IMU_HZ // vo_hz) == 0:
            _vo(core, t, _pose(x, y, yaw))
    return (x, y, yaw, wx, wy, wyaw, speed), t0 + int(n * 1e9 / IMU_HZ)


def _vo(core: FusionCore, t: int, T: np.ndarray, sigma: float = 0.03) -> None:
    """A tracking VO pose with the twist over the interval since the previous one."""
    last = getattr(core, '_test_vo_last', None)
    twist, cov = np.zeros(6), np.eye(6) * 1e3
    if last is not None:
        dt = (t - last[0]) * 1e-9
        delta = np.linalg.inv(last[1]) @ T
        twist[:3] = delta[:3, 3] / dt
        twist[5] = np.arctan2(delta[1, 0], delta[0, 0]) / dt
        cov = np.eye(6) * sigma**2
    core._test_vo_last = (t, T)
    core.on_vo_status(t, 'tracking', '')
    core.on_vo(OdometryEstimate(t, 'odom', 'base_link', T, np.eye(6) * 1e-4, twist, cov))


def test_straight_drive_follows_the_wheels_with_a_consistent_covariance():
    rng = np.random.default_rng(0)
    core = FusionCore(FusionConfig())
    state, t = _drive(core, 1.0, 0.0, 0.0, rng)  # at rest after start-up
    state, _ = _drive(core, 10.0, 0.3, 0.0, rng, t0=t, state=state)
    est = core.estimate()
    assert est is not None
    assert abs(est.T[0, 3] - state[0]) < 0.05
    assert abs(est.T[1, 3]) < 0.05 and abs(est.T[2, 3]) < 0.05
    assert np.all(np.isfinite(est.pose_covariance))
    assert np.all(np.linalg.eigvalsh(est.pose_covariance) >= -1e-12)
    assert all(h.state == OK for h in core.health.values())


def test_a_rate_witness_corrects_the_gyro_bias_but_never_moves_the_position():
    """After a curve driven with a gyro bias, the position is correlated with the bias (the
    bias bent the path). A turn rate from a witness corrects the bias, the heading and the
    velocity; the position, and how sure of it the filter is, stay as they were."""
    rng = np.random.default_rng(7)
    core = FusionCore(FusionConfig())
    state, t = _drive(core, 1.0, 0.0, 0.0, rng)
    _drive(core, 10.0, 0.3, 0.2, rng, t0=t, state=state)
    ekf = core.ekf
    assert np.abs(ekf.cov[0:3, 9:12]).max() > 1e-9
    p, cov_p, bg, R = ekf.p.copy(), ekf.cov[0:3, 0:3].copy(), ekf.bg.copy(), ekf.R.copy()
    result = ekf.update_angular_rate(
        np.array([0.0, 0.0, 0.2]), np.array([0.0, 0.0, 0.21]), np.eye(1) * 1e-6, 0.0
    )
    assert result.accepted
    assert np.array_equal(ekf.p, p) and np.array_equal(ekf.cov[0:3, 0:3], cov_p)
    assert abs(ekf.bg[2] - bg[2]) > 1e-3 and not np.allclose(ekf.R, R)
    assert np.allclose(ekf.cov, ekf.cov.T) and np.linalg.eigvalsh(ekf.cov).min() > -1e-12


def test_speeding_up_the_filter_is_not_held_back_by_the_wheels_mean_speed():
    """A wheel speed is the distance over the 20 ms before its stamp: the speed 10 ms ago.
    Speeding up at 0.4 m/s^2, that is 4 mm/s short of the speed at the stamp; the filter
    takes it at its interval's middle, so its own speed, on exact readings, is not pulled
    short by it."""
    core = FusionCore(FusionConfig())
    accel, x, v, errors = 0.4, 0.0, 0.0, []
    for i in range(1, 3 * IMU_HZ + 1):
        t = int(i * 1e9 / IMU_HZ)
        a = accel if i > IMU_HZ else 0.0
        x += (v + 0.5 * a / IMU_HZ) / IMU_HZ
        v += a / IMU_HZ
        core.on_imu(ImuSample(t, 'base_link', np.zeros(3), np.array([a, 0.0, G])), np.eye(3))
        if i % (IMU_HZ // WHEEL_HZ) == 0:
            core.on_wheel(OdometryEstimate(t, 'odom', 'base_link', _pose(x, 0.0, 0.0)))
            if i > 1.5 * IMU_HZ:
                errors.append(core.ekf.body_velocity()[0] - v)
    assert abs(np.mean(errors)) < 1e-3  # taken as the speed at its stamp: 4 mm/s short


def test_slipping_wheels_are_rejected_and_the_gyro_keeps_the_heading():
    rng = np.random.default_rng(1)
    gated = FusionCore(FusionConfig())
    naive = FusionCore(FusionConfig(gating=False))
    out = {}
    for name, core in (('gated', gated), ('naive', naive)):
        state, t = _drive(core, 1.0, 0.0, 0.0, rng)  # at rest after start-up
        state, t = _drive(core, 2.0, 0.3, 0.4, rng, t0=t, state=state)
        # Wet floor: the wheels report 50 % more speed and turn than the robot makes.
        state, t = _drive(core, 3.0, 0.3, 0.4, rng, 1.5, 1.5, t, state)
        out[name] = (state, core.estimate())
    state, est = out['gated']
    assert gated.health['wheel'].state == DEGRADED
    assert gated.health['wheel'].reason.startswith('slip')
    yaw = np.arctan2(est.T[1, 0], est.T[0, 0])
    assert abs(np.angle(np.exp(1j * (yaw - state[2])))) < 0.05
    assert naive.health['wheel'].state == OK  # the naive filter never flags anything


@pytest.mark.parametrize('vo_hz', [10, 20])
def test_stopping_and_starting_again_with_vo_is_no_slip(vo_hz):
    """VO speeds are frame averages that trail the wheels' while the robot brakes: each is
    judged against the wheels over its own frame interval. At 20 Hz, every other frame ends
    10 ms after the last wheel reading (50 Hz): that reading's speed carries the interval on."""
    rng = np.random.default_rng(4)
    core = FusionCore(FusionConfig())
    state, t = _drive(core, 1.0, 0.0, 0.0, rng, vo_hz=vo_hz)
    for _ in range(3):
        for speed, seconds in ((0.4, 2.0), (0.2, 0.2), (0.0, 0.5), (0.2, 0.2), (0.4, 0.2)):
            state, t = _drive(core, seconds, speed, 0.0, rng, t0=t, state=state, vo_hz=vo_hz)
            assert core.health['wheel'].counts.get('slip', 0) == 0
    # The same comparison still sees wheels that over-report by a third (before the carry, at
    # 20 Hz: every other frame read the wheels 20 % slow, and this slip went unseen).
    state, t = _drive(core, 2.0, 0.4, 0.0, rng, 1.33, t0=t, state=state, vo_hz=vo_hz)
    assert core.health['wheel'].reason == 'slip: wheels against VO'


def _slip_seen_by_vo(core: FusionCore, rng: np.random.Generator) -> tuple[tuple, int]:
    """At rest, 2 s at 0.4 m/s, then 1 s on a wet floor (wheels over-read by half), VO at 10
    Hz throughout: the slip is flagged against VO. Returns _drive's (state, t)."""
    state, t = _drive(core, 1.0, 0.0, 0.0, rng, vo_hz=10)
    state, t = _drive(core, 2.0, 0.4, 0.0, rng, t0=t, state=state, vo_hz=10)
    state, t = _drive(core, 1.0, 0.4, 0.0, rng, 1.5, t0=t, state=state, vo_hz=10)
    assert core.health['wheel'].reason == 'slip: wheels against VO'
    return state, t


@pytest.mark.parametrize('seed', [0, 1])
def test_after_a_slip_the_wheels_turn_stays_out_of_the_gyro_bias(seed):
    """After a slip seen by VO, the robot stops and turns in place on the same rug, its wheels
    over-reading the turn by a tenth: too little for the turn test, and VO's speed test
    passes (no speed to over-read), so the wheels are ok again. Their turn rate still stays
    out of the gyro bias for slip_hold_s (taken in, it pulls the bias 0.004 rad/s)."""
    rng = np.random.default_rng(seed)
    core = FusionCore(FusionConfig())
    state, t = _slip_seen_by_vo(core, rng)
    state, t = _drive(core, 0.5, 0.0, 0.0, rng, 1.5, t0=t, state=state, vo_hz=10)
    before = core.ekf.bg[2]
    state, t = _drive(core, 2.0, 0.0, 0.5, rng, 1.0, 1.1, t0=t, state=state, vo_hz=10)
    assert core.health['wheel'].state == OK
    assert abs(core.ekf.bg[2] - before) < 5e-4


def _turning_with_late_vo(late_ms: int, seed: int) -> tuple[float, float]:
    """IMU and VO only (10 Hz), the robot turning in place at a rate that swings between
    +-1.5 rad/s every 1.5 s; each VO twist arrives late_ms after its stamp. Returns the gyro
    bias (z) and heading (rad) the filter ends with."""
    rng = np.random.default_rng(seed)
    core = FusionCore(FusionConfig())
    bias, yaw, dt = np.array([0.002, -0.001, 0.003]), 0.0, 1.0 / IMU_HZ
    pending: list[tuple[int, np.ndarray]] = []
    for i in range(1, 8 * IMU_HZ + 1):
        t = int(i * 1e9 / IMU_HZ)
        rate = 1.5 * np.sin(2 * np.pi * i * dt / 1.5) if i * dt > 2.0 else 0.0
        yaw += rate * dt
        gyro = np.array([0.0, 0.0, rate]) + bias + rng.normal(0, 0.002, 3)
        accel = np.array([0.0, 0.0, G]) + rng.normal(0, 0.02, 3)
        core.on_imu(ImuSample(t, 'base_link', gyro, accel), np.eye(3))
        if i % (IMU_HZ // 10) == 0:
            pending.append((t, _pose(0.0, 0.0, yaw)))
        while pending and pending[0][0] + late_ms * 1_000_000 <= t:
            stamp, T = pending.pop(0)
            _vo(core, stamp, T, sigma=0.01)
    est = core.estimate()
    assert est is not None
    return float(core.ekf.bg[2]), float(np.arctan2(est.T[1, 0], est.T[0, 0]))


@pytest.mark.parametrize('seed', [0, 1])
def test_vo_arriving_late_is_compared_with_the_gyro_over_its_own_interval(seed):
    """A VO twist is the mean rate between two frames' stamps, and arrives later (transport,
    processing). Compared with the gyro since its previous arrival, 40 ms late in turns that
    speed up and ease off, it pulled the bias 0.0006-0.0008 rad/s and the heading 0.3 degrees
    away from what timely VO gives; by stamp, lateness changes nothing."""
    bias_on_time, yaw_on_time = _turning_with_late_vo(0, seed)
    bias_late, yaw_late = _turning_with_late_vo(40, seed)
    assert abs(bias_late - bias_on_time) < 1e-4
    assert abs(np.degrees(yaw_late - yaw_on_time)) < 0.05


def test_a_slip_seen_by_vo_is_held_while_vo_is_silent():
    """The wheels over-report on a wet floor; VO sees it, then loses track while the slip
    goes on: the wheels stay flagged, and the position drifts less than if the flag were
    dropped with VO."""
    drift = {}
    for hold in (3.0, 0.0):
        rng = np.random.default_rng(7)
        core = FusionCore(FusionConfig(slip_hold_s=hold))
        state, t = _slip_seen_by_vo(core, rng)
        before = core.estimate().T[0, 3] - state[0]
        core.on_vo_status(t, 'lost', 'few_inliers')
        state, t = _drive(core, 1.5, 0.4, 0.0, rng, 1.5, t0=t, state=state)
        drift[hold] = abs(core.estimate().T[0, 3] - state[0] - before)
        if hold:
            assert core.health['wheel'].reason == 'slip: wheels against VO, held'
            # Back on a dry floor, VO judges the wheels again and lifts the flag.
            core._test_vo_last = None
            state, t = _drive(core, 1.5, 0.4, 0.0, rng, t0=t, state=state, vo_hz=10)
            assert core.health['wheel'].state == OK
    assert drift[3.0] < 0.6 * drift[0.0]


def test_a_slip_found_late_is_widened_by_what_it_already_cost():
    """A wet floor whose slip builds up over 0.3 s: each wheel reading passes its gate, and
    for the window the slip test needs, the filter follows the wheels. Once the slip is
    found, the covariance must cover the error already taken in, and the next VO speeds
    must pull the position back (before the fix: 7 cm off with a 1.3 cm sigma, 2 s on)."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        core = FusionCore(FusionConfig())
        state, t = _drive(core, 1.0, 0.0, 0.0, rng, vo_hz=10)
        state, t = _drive(core, 2.0, 0.4, 0.0, rng, t0=t, state=state, vo_hz=10)
        found = False
        for step in range(20):  # 0.1 s each; the wheels over-read up to 50 %
            gain = 1.0 + 0.5 * min(1.0, (step + 1) / 3)
            state, t = _drive(core, 0.1, 0.4, 0.0, rng, gain, t0=t, state=state, vo_hz=10)
            found = found or core.health['wheel'].reason.startswith('slip')
            if found:
                est = core.estimate()
                error, sigma = est.T[0, 3] - state[0], np.sqrt(est.pose_covariance[0, 0])
                assert abs(error) < 3 * sigma
        assert found
        assert abs(error) < 0.02


def test_odometry_never_jumps_when_the_wheels_come_back_after_a_coast():
    """A slip held with VO lost: the filter coasts on the IMU for 3 s, and its position and
    velocity grow correlated. When the wheels are trusted again, their first readings move
    the filter's position by decimetres at once; the published pose takes that in at most
    max_correction_speed, and its covariance holds what it has not yet taken in."""
    steps = {}
    for speed in (1e3, 0.25):
        rng = np.random.default_rng(0)
        core = FusionCore(FusionConfig(max_correction_speed=speed))
        state, t = _slip_seen_by_vo(core, rng)
        core.on_vo_status(t, 'lost', 'few_inliers')
        last, largest = core.estimate(), 0.0
        for step in range(250):  # 20 ms each: the wet floor ends after 2 s, the hold after 3
            state, t = _drive(
                core, 0.02, 0.4, 0.0, rng, 1.5 if step < 100 else 1.0, t0=t, state=state
            )
            est = core.estimate()
            moved = np.linalg.norm(est.T[:3, 3] - last.T[:3, 3]) - 0.4 * 0.02
            largest = max(largest, moved)
            lag = np.linalg.norm(core.ekf.p - est.T[:3, 3])
            assert np.trace(est.pose_covariance[:3, :3]) >= lag**2
            last = est
        assert core.health['wheel'].state == OK
        steps[speed] = largest
    assert steps[1e3] > 0.1  # what the filter itself does
    assert steps[0.25] < 0.25 * 0.02 + 0.002


def test_a_threshold_crossing_is_no_slip():
    """Rolling over a threshold, the wheels jolt and the gyro with them, each differently:
    no slip is concluded through it."""
    rng = np.random.default_rng(5)
    results = {}
    for rate in (0.0, 1.2):
        core = FusionCore(FusionConfig())
        state, t = _drive(core, 1.0, 0.0, 0.0, rng)
        state, t = _drive(core, 2.0, 0.3, 0.0, rng, t0=t, state=state)
        for tilt in (rate, -rate):  # up the threshold and down again, one wheel spinning
            state, t = _drive(
                core, 0.25, 0.3, 0.3, rng, 1.6, 1.6, t0=t, state=state, tilt_rate=tilt
            )
        state, t = _drive(core, 0.3, 0.3, 0.3, rng, t0=t, state=state)
        results[rate] = core.health['wheel'].counts.get('slip', 0)
    assert results[0.0] > 0  # without the roll, the same wheels are a slip
    assert results[1.2] == 0


def test_a_slip_that_starts_with_a_turn_from_rest_is_flagged_within_half_a_second():
    """Put down on a wet floor, the robot starts turning in place: the slip's first window
    holds the spin-up, weighed against the rates it was averaged over, not the last one."""
    rng = np.random.default_rng(6)
    core = FusionCore(FusionConfig())
    state, t = _drive(core, 1.5, 0.0, 0.0, rng)
    start, flagged = t, None
    for rate in (0.3, 0.6, 0.9, 1.2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5):  # 0.1 s steps
        state, t = _drive(core, 0.1, 0.0, rate, rng, 1.0, 1.35, t0=t, state=state)
        if flagged is None and core.health['wheel'].reason == 'slip: wheels against gyro':
            flagged = (t - start) * 1e-9
    assert flagged is not None and flagged <= 0.5


def test_a_clipped_imu_reading_skips_the_imu_for_the_hold_window_then_recovers():
    rng = np.random.default_rng(2)
    config = FusionConfig()
    core = FusionCore(config)
    state, t = _drive(core, 1.0, 0.2, 0.0, rng)
    hit = np.array([0.0, 0.0, config.accel_range_m_s2])  # the threshold's impact, clipped
    state, t = _drive(core, 0.05, 0.2, 0.0, rng, t0=t, state=state, accel_override=hit)
    assert core.health['imu'].state == REJECTED and core.health['imu'].reason == 'saturated'
    state, t = _drive(core, 0.5, 0.2, 0.0, rng, t0=t, state=state)
    assert core.health['imu'].state == OK
    est = core.estimate()
    assert abs(est.T[0, 3] - state[0]) < 0.05  # the clipped impact did not throw the pose
    assert abs(est.T[2, 3]) < 0.05


def test_lifted_robot_freezes_odometry_and_asks_for_relocalization_when_put_down():
    rng = np.random.default_rng(3)
    core = FusionCore(FusionConfig())
    state, t = _drive(core, 1.0, 0.2, 0.0, rng)
    core.lifted_hint = True
    before = core.estimate().T.copy()
    state, t = _drive(core, 2.0, 0.5, 0.3, rng, t0=t, state=state)  # wheels spin in the air
    assert core.lifted and core.health['wheel'].reason == 'lifted'
    assert np.allclose(core.estimate().T[:3, 3], before[:3, 3])  # only the attitude moves
    core.lifted_hint = False
    state, t = _drive(core, 1.0, 0.0, 0.0, rng, t0=t, state=state)  # put down, standing
    assert not core.lifted
    assert len(core.relocalize) == 1


def test_bad_stamps_are_counted_and_never_reach_the_state():
    rng = np.random.default_rng(4)
    core = FusionCore(FusionConfig())
    _, t = _drive(core, 0.5, 0.1, 0.0, rng)
    before = core.estimate().T.copy()
    core.on_imu(ImuSample(t, 'base_link', np.zeros(3), np.array([0, 0, G])), np.eye(3))
    core.on_imu(ImuSample(t - 10**8, 'base_link', np.zeros(3), np.array([0, 0, G])), np.eye(3))
    assert core.health['imu'].counts['out_of_order'] == 2
    assert np.allclose(core.estimate().T, before)


def test_naive_config_turns_every_gate_off():
    config = dataclasses.replace(FusionConfig(), gating=False)
    core = FusionCore(config)
    assert core.gate == {1: 0.0, 3: 0.0}


def _turn_over_a_threshold(core: FusionCore, pulse_at: float, seed: int) -> tuple[float, float]:
    """A robot turning at 0.8 rad/s and 0.3 m/s crosses a threshold (pitch 4.6 degrees up in
    30 ms, held 120 ms, down in 30 ms) with its IMU in low power: 50 Hz, each sample the mean
    of the 5 ms before it. Returns the position error (m) 5 s later and the pitch the samples
    integrate over the climb against the truth's (rad)."""
    rng = np.random.default_rng(seed)
    dt, n = 1e-3, 8000
    t = np.arange(1, n + 1) * dt
    v = np.clip((t - 1.0) * 0.6, 0.0, 0.3)
    w = np.where(t < 1.5, 0.0, 0.8)
    a, ramp = np.radians(4.6), 0.03
    pitch = np.interp(
        t, pulse_at + np.array([0.0, ramp, ramp + 0.12, 2 * ramp + 0.12]), [0.0, -a, -a, 0.0]
    )
    yaw = np.cumsum(w) * dt
    rates = np.column_stack([-w * np.sin(pitch), np.gradient(pitch, dt), w * np.cos(pitch)])
    velocity = np.column_stack([v * np.cos(yaw), v * np.sin(yaw), np.zeros(n)])
    R = Rotation.from_euler('ZY', np.column_stack([yaw, pitch]))
    force = R.inv().apply(np.gradient(velocity, dt, axis=0) + np.array([0.0, 0.0, G]))
    xy = np.cumsum(velocity[:, :2], axis=0) * dt
    seen_climb = 0.0
    for k in range(20, n, 20):
        window = slice(k - 5, k)
        gyro = rates[window].mean(axis=0)
        if pulse_at <= t[k - 1] < pulse_at + ramp + 0.06:
            seen_climb += gyro[1] * 0.02
        t_ns = int(round(t[k - 1] * 1e9))
        core.on_imu(
            ImuSample(
                t_ns,
                'base_link',
                gyro + rng.normal(0, 0.002, 3),
                force[window].mean(axis=0) + rng.normal(0, 0.02, 3),
            ),
            np.eye(3),
        )
        core.on_wheel(OdometryEstimate(t_ns, 'odom', 'base_link', _pose(*xy[k - 1], yaw[k - 1])))
    error = float(np.linalg.norm(core.estimate().T[:2, 3] - xy[-1]))
    return error, abs(seen_climb + a)


def test_a_threshold_crossed_between_low_power_samples_does_not_tilt_the_turns_after_it():
    """The samples miss part of the crossing's pitch; turning after it, that pitch error would
    become roll and, booked as accelerometer bias, velocity (5 cm off after 5 s before the
    attitude and velocity were widened after such a crossing; about 1 cm now)."""
    for seed, pulse_at in ((0, 3.003), (1, 3.013)):
        core = FusionCore(FusionConfig())
        error, missed = _turn_over_a_threshold(core, pulse_at, seed)
        assert missed > np.radians(0.5)  # the premise: the samples did not see the whole climb
        roll, pitch = Rotation.from_matrix(core.ekf.R).as_euler('ZYX')[2:0:-1]
        assert error < 0.025
        assert np.hypot(roll, pitch) < np.radians(0.4)


def test_a_turn_easing_off_at_low_power_is_integrated_over_the_whole_interval():
    """At low power's 50 Hz each sample still averages only the 5 ms before it. Held over the
    whole 20 ms (the rectangle rule), a turn that eases off from 1.2 rad/s is short by half
    the unseen change: 0.5 degrees; the line between samples leaves a few hundredths."""
    core = FusionCore(FusionConfig())
    rng = np.random.default_rng(0)
    dt = 1e-3
    t = np.arange(1, 3501) * dt
    # still, up to 1.2 rad/s in 0.1 s, held, then easing off to standstill over 1 s
    w = np.interp(t, [0.0, 1.0, 1.1, 1.5, 2.5, 3.5], [0.0, 0.0, 1.2, 1.2, 0.0, 0.0])
    yaw = np.cumsum(w) * dt
    headings = {}
    for k in range(20, len(t) + 1, 20):
        gyro = np.array([0.0, 0.0, w[k - 5 : k].mean()]) + rng.normal(0, 0.002, 3)
        core.on_imu(ImuSample(int(round(t[k - 1] * 1e9)), 'base_link', gyro, [0, 0, G]), np.eye(3))
        if k in (1500, 3500):  # at full rate, and when it has stopped
            headings[k] = Rotation.from_matrix(core.ekf.R).as_euler('ZYX')[0] - yaw[k - 1]
    assert abs(headings[3500] - headings[1500]) < np.radians(0.1)
