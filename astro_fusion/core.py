"""Wheel + IMU + VO fusion with a reliability monitor per sensor, ROS-free.

The IMU drives the prediction (ekf.py); wheels and VO correct the velocity; standing still
corrects the velocity and the gyro bias. Around that, the monitors decide per sensor whether
its data goes in, down-weighted, or not at all, and why:
- IMU: a reading at its range (a door threshold's impact) is clipped, so the accelerometer is
  not integrated for `saturation_hold_s` after it (the gyro still is, unless it clipped too):
  the state coasts, and the velocity covariance grows by the impulse the clipping hid.
- Wheels: slip shows as wheels that disagree with the gyro's yaw rate or with VO's speed
  (averaged over `slip_window_s`; each VO speed against the wheels' over the same frame
  interval, so that braking or speeding up is no disagreement); slipping wheels are
  down-weighted until they agree again, and stay so while no witness can judge them
  (`slip_hold_s`). Wheels out of their innovation gate for a whole slip window slip against
  the inertial velocity. Disagreeing wheels are never dropped: they bound the velocity
  loosely, a window of them weighing as one reading.
- Lift: the base's wheel_drop hint when it has one, else the base rising more than a floor
  robot can (lift.py). While lifted the position is frozen (the attitude still follows the
  gyro); when put down, a relocalization request goes out (the robot may be anywhere).
- Low power: the base's hint when it has one, else the IMU rate dropping while the camera is
  silent: prediction goes on at the lower rate and the covariance grows by itself.
- VO: `/vo/status` says whether it tracks (and is its heartbeat); its twists are used only
  while it does. VO's angular rate is the best witness of the gyro bias (no wheel radii).
The published position never jumps: the filter's corrections enter it at most
`max_correction_speed` (PublishedPosition), its covariance holding the rest meanwhile.

Every update also passes a chi-square gate on its innovation (`gate_probability`). With
`gating` off, all of this is off: that is the naive fusion the benchmarks compare against.

The IMU is required: without it nothing is predicted or published. VO twists are applied when
they arrive, so on a robot their image latency (tens of ms) is a small, ignored error.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from scipy.spatial.transform import Rotation
from scipy.stats import chi2

from astro_fusion.config import FusionConfig
from astro_fusion.ekf import GRAVITY, ErrorStateEkf, ImuNoise, V
from astro_fusion.lift import LiftDetector
from astro_fusion.reliability import DEGRADED, OK, REJECTED, SensorHealth, Window
from astro_slam.transforms import inverse, yaw_of
from astro_slam.types import DiagnosticStatus, ImuSample, OdometryEstimate

G = float(-GRAVITY[2])
# IMU intervals this many times the nominal one or longer are low power's (the rate drops 4x)
SLOW_IMU = 1.8


class GyroRecord:
    """The gyro's recent rates by stamp. Wheels and VO measure a mean rate over their own
    interval, which must be compared with the gyro's mean over the same interval (an instant
    reading differs by the angular acceleration times half that interval), found by stamp:
    a witness arrives later than its stamp says (VO by a frame's transport and processing, 20
    ms in the simulator's bags), and the gyro since its previous arrival is then the wrong
    stretch. In a turn that eases off at 3 rad/s^2, 20 ms late reads 0.06 rad/s off, which
    VO's sigma passes, frame after frame, into the gyro bias (the demo's day 2: the bias
    pulled 0.0018 rad/s off within a second of a quick turn, and with the slip's wheels, three
    degrees of heading lost in the minute after)."""

    def __init__(self, seconds: float = 2.0) -> None:
        self.seconds = seconds
        self.rates: deque[tuple[int, int, np.ndarray]] = deque()  # (start, end ns, rate)

    def add(self, t_ns: int, dt: float, rate: np.ndarray) -> None:
        self.rates.append((t_ns - int(dt * 1e9), t_ns, rate))
        while self.rates and self.rates[0][1] < t_ns - self.seconds * 1e9:
            self.rates.popleft()

    def mean(self, t0: int | None, t1: int, fallback: np.ndarray) -> np.ndarray:
        """The mean rate over (t0, t1], from what the record covers of it; `fallback` when it
        covers none of it (the interval unknown, or all of it before the record)."""
        if t0 is None or t1 <= t0:
            return fallback
        total, covered = np.zeros(3), 0
        for start, end, rate in reversed(self.rates):
            if end <= t0:
                break
            overlap = min(end, t1) - max(start, t0)
            if overlap > 0:
                total += rate * overlap
                covered += overlap
        return total / covered if covered else fallback


class SpeedLag:
    """How far the filter's forward speed is ahead of its mean over the interval since the
    last take(). A wheel speed is such a mean (distance over the interval): compared with the
    speed now, it would be 10 ms late at 50 Hz, 4 mm/s short while speeding up at 0.4 m/s^2.

    Only the prediction's changes count (trapezoidal: the speed changes through each IMU
    step): an update inside the interval corrects the speed, it does not make the base speed
    up, and must not reach the wheels a second time through this.
    """

    def __init__(self) -> None:
        self.change = 0.0  # predicted change since the interval began
        self.area = 0.0  # its integral over the interval
        self.seconds = 0.0

    def add(self, step_change: float, dt: float) -> None:
        before, self.change = self.change, self.change + step_change
        self.area += 0.5 * (before + self.change) * dt
        self.seconds += dt

    def take(self) -> float:
        lag = self.change - self.area / self.seconds if self.seconds > 0 else 0.0
        self.change = self.area = self.seconds = 0.0
        return lag


class PublishedPosition:
    """The position /odometry/filtered publishes: it moves with the filter's prediction at
    once, and takes the filter's corrections at most `speed` m/s, so that it never jumps.

    A velocity update moves the position too, by what the velocity error would have moved it
    since the two became correlated. After seconds of coasting on the IMU (a slip held with
    the camera off), one wheel reading moved it 35 cm, and the next three 28 cm back
    (fusion_faults home 0); Nav2 would see the robot leap. Normal corrections are a few
    millimetres and pass within a few IMU samples.
    """

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.p: np.ndarray | None = None

    def move(self, motion: np.ndarray) -> None:
        if self.p is not None:
            self.p = self.p + motion

    def follow(self, target: np.ndarray, dt: float) -> None:
        """One step towards the filter's position, at most speed * dt long."""
        if self.p is None:
            self.p = target.copy()
            return
        gap = target - self.p
        distance = float(np.linalg.norm(gap))
        step = self.speed * dt
        self.p = target.copy() if distance <= step else self.p + gap * (step / distance)

    def position(self, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(published position, its lag behind the filter's)."""
        if self.p is None:
            return target.copy(), np.zeros(3)
        return self.p.copy(), target - self.p


class FusionCore:
    """See the module docstring. Feed it in stamp order; read `estimate()` and `statuses()`."""

    def __init__(self, config: FusionConfig) -> None:
        self.config = c = config
        noise = ImuNoise(c.gyro_noise, c.accel_noise, c.gyro_bias_walk, c.accel_bias_walk)
        self.ekf = ErrorStateEkf(noise, initial_sigma_bg=0.01, initial_sigma_ba=0.1)
        self.health = {name: SensorHealth(name) for name in ('imu', 'wheel', 'vo')}
        self.t_ns: int | None = None  # filter time: the last IMU sample
        self.gyro = np.zeros(3)  # last good base-frame readings
        self.gyro_record = GyroRecord()
        self.wheel_lag = SpeedLag()
        self.accel = np.array([0.0, 0.0, G])
        self.saturated_until = -1
        self.crossing_until = -1  # a threshold crossing (roll or pitch) holds the slip tests
        # Bounds on the roll and pitch rotation (rad) and the velocity change (m/s) of a
        # crossing that fell between low-power IMU samples (_track_unseen_motion); None when
        # nothing was missed.
        self.unseen: tuple[np.ndarray, np.ndarray] | None = None
        self.gyro_saturated_until = -1
        # The previous sample as read (stamp, gyro, accel), unless it clipped.
        self.last_reading: tuple[int, np.ndarray, np.ndarray] | None = None
        self.imu_dt: deque[float] = deque(maxlen=25)
        self.lift = LiftDetector(c.lift_height_m, c.put_down_still_s)
        self.lifted = False
        self.lifted_hint: bool | None = None  # None: the base publishes no such hint
        self.low_power_hint: bool | None = None
        self.still_since: int | None = None
        self.wheel_last: tuple[int, np.ndarray] | None = None
        self.wheel_gated_since: int | None = None
        self.wheel_twist = (0, 0.0, 0.0)  # (t_ns, speed, yaw rate)
        self.vo_speed: tuple[int, float] | None = None
        self.vo_prev_ns: int | None = None  # stamp of the last VO pose: its twist starts there
        self.wheel_path: deque[tuple[int, float]] = deque(maxlen=256)  # (t_ns, forward m)
        self.vo_state = ('', '')  # (state, reason) of the last /vo/status
        self.vo_last_ns: int | None = None
        self.slip_yaw = Window(c.slip_window_s)
        self.slip_speed = Window(c.slip_window_s)
        self.slip_seen: tuple[int, str] | None = None  # the last evidence of a slip, and why
        self.slip_since: int | None = None  # when the witnessed slip under way began
        self.slip_evidence_ns: int | None = None  # the last witness evidence of a slip
        self.relocalize: list[int] = []  # put-down stamps not yet handed out
        self.put_downs = 0
        self.imu_samples = 0
        # The published position: it follows the filter's motion at once and its corrections
        # at most max_correction_speed (PublishedPosition)
        self.published = PublishedPosition(c.max_correction_speed)
        gate = c.gate_probability
        self.gate = {n: float(chi2.ppf(gate, n)) if c.gating else 0.0 for n in (1, 3)}

    # -- IMU -------------------------------------------------------------------------------

    def on_imu(self, sample: ImuSample, R_base_imu: np.ndarray) -> None:
        c, imu = self.config, self.health['imu']
        t = sample.t_ns
        if self.t_ns is not None and t <= self.t_ns:
            imu.count('out_of_order')
            return
        gyro = R_base_imu @ sample.angular_velocity
        accel = R_base_imu @ sample.linear_acceleration
        accel_clipped = bool(
            np.any(np.abs(sample.linear_acceleration) >= c.saturation_margin * c.accel_range_m_s2)
        )
        gyro_clipped = bool(
            np.any(np.abs(sample.angular_velocity) >= c.saturation_margin * c.gyro_range_rad_s)
        )
        if (accel_clipped or gyro_clipped) and c.gating:
            self.saturated_until = t + int(c.saturation_hold_s * 1e9)
            imu.count('saturated')
            if gyro_clipped:
                self.gyro_saturated_until = self.saturated_until
        previous = self.last_reading
        self.last_reading = None if accel_clipped or gyro_clipped else (t, gyro, accel)
        if self.t_ns is None:
            self._align_gravity(accel)
            self.t_ns = t
            return
        dt = (t - self.t_ns) * 1e-9
        mean_gyro, mean_accel = self._interval_mean(dt, gyro, accel, previous)
        self.t_ns = t
        self.imu_samples += 1
        self.imu_dt.append(dt)
        saturated = t < self.saturated_until
        if np.linalg.norm(gyro[:2]) > c.crossing_tilt_rate:
            self.crossing_until = t + int(c.slip_window_s * 1e9)
        self._track_unseen_motion(t, dt, gyro, accel)
        self._update_imu_health(t, saturated)
        self._check_lift(t, dt, gyro, accel, accel_clipped)
        if self.lifted:  # frozen: a carried robot's wheels say nothing about where it goes
            if t >= self.gyro_saturated_until:
                self.ekf.rotate(mean_gyro, dt)
            return
        if dt > c.max_imu_gap_s:
            imu.count('gap')
            self.ekf.cov[6:9, 6:9] += np.eye(3) * (c.gyro_noise**2 * dt + 1e-4)
            self.ekf.cov[3:6, 3:6] += np.eye(3) * 0.25  # unknown motion in the gap
            return
        speed = self.ekf.body_velocity()[0]
        before = self.ekf.p.copy()
        if saturated:  # coast: no acceleration, and the last good rate if the gyro clipped
            if t >= self.gyro_saturated_until:
                self.gyro = gyro
            coast = self.ekf.R.T @ -GRAVITY + self.ekf.ba
            self.ekf.predict(self.gyro, coast, dt, inflate=100.0)
            if accel_clipped:  # the clipped reading hid up to a full range of acceleration
                self.ekf.cov[V, V] += np.eye(3) * (c.accel_range_m_s2 * dt) ** 2
        else:
            self.gyro, self.accel = gyro, accel
            self.ekf.predict(mean_gyro, mean_accel, dt)
        self.wheel_lag.add(self.ekf.body_velocity()[0] - speed, dt)
        self.published.move(self.ekf.p - before)
        if not saturated:
            self._zero_velocity(t, gyro, accel)
        self.published.follow(self.ekf.p, dt)
        rate = self.gyro if t < self.gyro_saturated_until else mean_gyro  # held while clipped
        self.gyro_record.add(t, dt, rate)

    def _interval_mean(
        self,
        dt: float,
        gyro: np.ndarray,
        accel: np.ndarray,
        previous: tuple[int, np.ndarray, np.ndarray] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The readings' mean over the whole interval since the previous sample. A sample
        averages the nominal interval (1 / imu_rate_hz) before its stamp; when samples come
        further apart (low power, a late sample), the rest of the interval went unseen, and
        the line between the two samples is its best guess: their mean. Holding the new
        sample over it instead (the rectangle rule) misses half the change: after a turn
        that eased off at low power's 50 Hz, 0.6 degrees of heading (fusion_faults home 1,
        put down into a turn)."""
        window = 1.0 / self.config.imu_rate_hz
        if (
            previous is None
            or previous[0] != self.t_ns
            or not window < dt <= self.config.max_imu_gap_s
        ):
            return gyro, accel
        unseen = (dt - window) / dt
        return (
            gyro + unseen * (previous[1] - gyro) / 2,
            accel + unseen * (previous[2] - accel) / 2,
        )

    def _track_unseen_motion(self, t: int, dt: float, gyro: np.ndarray, accel: np.ndarray) -> None:
        """A threshold crossed at low power's rate: each sample averages only the nominal
        interval (1 / imu_rate_hz) before its stamp, so part of the crossing's quick pitch and
        jolt falls between samples and is never integrated. Through the crossing, what was
        missed is bounded by the rectangle rule (half the change between two samples times
        the unseen time); when it is over, roll, pitch and velocity are widened by it.

        Without this, fusion_faults home 2 left 31 cm over 5.7 m of low power (the wheels
        alone 4.8 cm): a crossing in a turn left the pitch a degree off, the turn carried it
        into roll, and the filter, sure of its attitude, booked the tilt as accelerometer
        bias and spent it as velocity in the next turns.
        """
        c = self.config
        if t < self.crossing_until:
            slow = SLOW_IMU / c.imu_rate_hz < dt <= c.max_imu_gap_s
            if slow and not self.lifted:
                unseen_s = dt - 1.0 / c.imu_rate_hz
                rate, jolt = self.unseen or (np.zeros(2), np.zeros(3))
                self.unseen = (
                    rate + np.abs(gyro[:2] - self.gyro[:2]) * unseen_s / 2,
                    jolt + np.abs(accel - self.accel) * unseen_s / 2,
                )
        elif self.unseen is not None:
            tilt, velocity = self.unseen
            self.ekf.widen_after_unseen_motion(tilt, float(np.linalg.norm(velocity)))
            self.unseen = None

    def _align_gravity(self, accel: np.ndarray) -> None:
        """Roll and pitch from a reading at rest (start-up, put down); yaw is kept."""
        if np.linalg.norm(accel) < 0.5 * G:
            return
        z = accel / np.linalg.norm(accel)  # the world up axis in the base frame
        level = Rotation.align_vectors([[0.0, 0.0, 1.0]], [z])[0]
        yaw = Rotation.from_matrix(self.ekf.R).as_euler('ZYX')[0]
        tilt = level.as_euler('ZYX')
        self.ekf.level(Rotation.from_euler('ZYX', [yaw, tilt[1], tilt[2]]).as_matrix())

    def _update_imu_health(self, t: int, saturated: bool) -> None:
        imu = self.health['imu']
        if saturated:
            imu.set(REJECTED, 'saturated', t)
        elif self.low_power:
            imu.set(DEGRADED, 'low_rate', t, weight=1.0)
        else:
            imu.set(OK, '', t)

    @property
    def low_power(self) -> bool:
        if self.low_power_hint is not None:
            return self.low_power_hint
        if len(self.imu_dt) < self.imu_dt.maxlen:
            return False
        slow = float(np.median(self.imu_dt)) > SLOW_IMU / self.config.imu_rate_hz
        camera_silent = self.health['vo'].reason == 'silent'
        return slow and camera_silent

    # -- lift and zero velocity --------------------------------------------------------------

    def _check_lift(
        self, t: int, dt: float, gyro: np.ndarray, accel: np.ndarray, clipped: bool
    ) -> None:
        c = self.config
        still = (
            np.linalg.norm(gyro - self.ekf.bg) < c.zero_velocity_gyro
            and abs(np.linalg.norm(accel) - G) < c.zero_velocity_accel
        )
        self.still_since = (self.still_since or t) if still else None
        a_z = None if clipped else float((self.ekf.R @ (accel - self.ekf.ba))[2] - G)
        self.lift.update(t, dt, a_z)
        if not c.gating:
            return
        lifted = self.lift.lifted if self.lifted_hint is None else self.lifted_hint
        wheel = self.health['wheel']
        if lifted and not self.lifted:
            self.lifted = True
            self.slip_seen = self.slip_since = None  # it is put down elsewhere
            wheel.set(REJECTED, 'lifted', t)
            wheel.count('lifted')
        elif self.lifted and not lifted:
            self.lifted = False
            self.lift.reset()
            self.ekf.reopen_velocity(zero=True)
            self._align_gravity(accel)  # the attitude drifted on the gyro alone while carried
            wheel.set(OK, '', t)
            self.relocalize.append(t)
            self.put_downs += 1

    def _zero_velocity(self, t: int, gyro: np.ndarray, accel: np.ndarray) -> None:
        """Standing still (wheels and IMU agree) pins the velocity and shows the gyro bias."""
        wheel_t, speed, yaw_rate = self.wheel_twist
        wheels_still = t - wheel_t < 2e8 and abs(speed) < 1e-3 and abs(yaw_rate) < 1e-3
        if not (wheels_still and self.still_since is not None) or self.imu_samples % 10:
            return
        self.ekf.update_zero_velocity(0.005)
        self.ekf.update_angular_rate(
            np.zeros(3), gyro, np.eye(3) * self.config.gyro_noise**2 * 20, 0.0, axes=(0, 1, 2)
        )

    # -- wheels ------------------------------------------------------------------------------

    def on_wheel(self, odom: OdometryEstimate) -> None:
        c, wheel = self.config, self.health['wheel']
        t = odom.t_ns
        last = self.wheel_last
        self.wheel_last = (t, odom.T)
        lag = self.wheel_lag.take()
        if last is None:
            return
        gyro = self.gyro_record.mean(last[0], t, self.gyro)  # both over this reading's interval
        dt = (t - last[0]) * 1e-9
        if dt <= 0:
            wheel.count('out_of_order')
            return
        delta = inverse(last[1]) @ odom.T
        speed, yaw_rate = delta[0, 3] / dt, yaw_of(delta) / dt
        travelled = self.wheel_path[-1][1] if self.wheel_path else 0.0
        self.wheel_path.append((t, travelled + float(delta[0, 3])))
        self.wheel_twist = (t, speed, yaw_rate)
        if self.lifted or self.t_ns is None:
            wheel.count('skipped')
            return
        if self.health['imu'].state == REJECTED or t < self.crossing_until:
            # A threshold jolts every sensor at once, each in its own way: no slip evidence.
            self.slip_yaw.clear()
            self.slip_speed.clear()
            self.wheel_gated_since = None
        slip = self._slip(t, speed, yaw_rate, gyro) if c.gating else ''
        if slip:
            self.slip_seen = (t, slip)
            self.slip_evidence_ns = t
        slip = slip or self._held_slip(t, speed)
        witnessed = bool(slip)  # by VO or the gyro, which owe the wheels nothing
        if not witnessed:
            self.slip_since = None
        elif self.slip_since is None:
            self.slip_since = t
            self._widen_for_slip(t, speed)
        # The wheels' mean speed over their interval, carried to now (home 2's 5-minute
        # `loops`, fusion alone: RPE 0.61 to 0.58 %); they do not slide sideways at any instant.
        measured = np.array([speed + lag, 0.0, 0.0])
        if not slip:
            cov = self._wheel_velocity_cov(speed, 0.05)
            result = self.ekf.update_body_velocity(measured, cov, self.gate[3])
            if result.accepted:
                self.wheel_gated_since = None
                wheel.record(result, t)
                if self.health['imu'].state != REJECTED and not self._turn_in_doubt(t):
                    sigma_w = c.wheel_yaw_rate_sigma + c.wheel_yaw_rate_scale * abs(speed)
                    self.ekf.update_angular_rate(
                        np.array([0.0, 0.0, yaw_rate]),
                        gyro,
                        np.array([[sigma_w**2]]),
                        self.gate[1],
                    )
                return
            # Out of the gate: for a moment, an innovation; for a whole slip window, the wheels
            # are slipping against the inertial velocity (the only witness while VO is off).
            self.wheel_gated_since = self.wheel_gated_since or t
            wheel.last_nis = result.nis
            wheel.count('gated')
            if t - self.wheel_gated_since >= c.slip_window_s * 1e9:
                slip = 'slip: wheels against IMU'
        # Wheels that disagree still bound the velocity (an IMU alone drifts off within
        # seconds), only far more loosely, without a gate, and say nothing about the gyro.
        # A witnessed slip's error is shared by every reading since it began, not noise that
        # averages out: they weigh as one, so that fifty a second, second after second, cannot
        # outvote VO or the IMU (weighed per window instead, a 4 s slip with the camera off
        # pulled the velocity from the truth towards the wheels': fusion_faults home 0, RPE 2.31
        # against 1.67 %). Against the inertial velocity alone they keep their weight per
        # reading: that velocity may be the one in error, and the wheels are what brings it back.
        cov = self._wheel_velocity_cov(speed, c.slip_speed_inflation)
        if witnessed:
            span_s = max(c.slip_window_s, (t - self.slip_since) * 1e-9)
            cov[0, 0] *= max(1.0, span_s / dt)
        self.ekf.update_body_velocity(measured, cov, 0.0)
        if slip:
            wheel.set(DEGRADED, slip, t)
            wheel.count('slip')
        else:
            wheel.set(DEGRADED, 'innovation', t)

    def _widen_for_slip(self, t: int, speed: float) -> None:
        """A slip is convicted a window after it began, and through that window the wheels went
        in as good: the velocity took in part of their error, and the position with it, each
        update moving both along their correlation. That part is unknown but at most how
        much VO saw them over-read over the window (without VO's speeds, nothing was measured
        and nothing is widened): forward velocity and position are widened by it over the
        window, so the next good reading pulls both back, and the covariance says what
        the slip may have cost (fusion_faults home 3: a 46 % overread took 6 cm in before it
        was found, with a position sigma of 1.3 cm). Only wheels that over-read, as on a wet
        floor: VO faster than the wheels is more often a VO pose that jumped (the demo's day
        2: one read 0.33 m/s over the wheels, and the widening let the next speeds drag the
        position 18 cm)."""
        over_read = float(self.slip_speed.mean()[0]) if self._vo_judges(t) else 0.0
        if over_read > 0.0:
            self.ekf.widen_forward(over_read, self.config.slip_window_s)

    def _wheel_velocity_cov(self, speed: float, speed_share: float) -> np.ndarray:
        """Base-frame velocity noise of the wheels: speed noise (a floor plus a share of the
        speed) forward, the non-holonomic constraint sideways and up."""
        c = self.config
        sigma_v = c.wheel_speed_sigma + speed_share * abs(speed)
        return np.diag([sigma_v**2, c.nonholonomic_sigma**2, c.nonholonomic_sigma**2])

    def _slip(self, t: int, speed: float, yaw_rate: float, gyro: np.ndarray) -> str:
        """Why the wheels are slipping, or ''.

        Each test holds (wheels minus witness, the wheels' own magnitude) over its window and
        weighs the mean difference against a floor plus 15 % of the mean magnitude: a slip
        that starts as the robot speeds up is measured against the speeds it was averaged
        over, not against the last one.
        """
        c = self.config
        if self.health['imu'].state != REJECTED:  # at low power's slower rate too
            self.slip_yaw.add(t, yaw_rate - (gyro[2] - self.ekf.bg[2]), abs(yaw_rate))
            if self.slip_yaw.full(t):
                difference, rate = self.slip_yaw.mean()
                if abs(difference) > c.slip_yaw_rate_threshold + 0.15 * rate:
                    return 'slip: wheels against gyro'
        if self._vo_judges(t):
            difference, wheel_speed = self.slip_speed.mean()
            if abs(difference) > c.slip_speed_threshold + 0.15 * wheel_speed:
                return 'slip: wheels against VO'
        return ''

    def _vo_judges(self, t: int) -> bool:
        """Whether VO's speeds are fresh (the last within 0.2 s) and fill a slip window."""
        return self.vo_speed is not None and t - self.vo_speed[0] < 2e8 and self.slip_speed.full(t)

    def _turn_in_doubt(self, t: int) -> bool:
        """Whether a slip was witnessed within slip_hold_s: the wheels' turn rate then stays
        out of the gyro bias even where their speed is judged good again. Turning in place on
        the rug that made them slip, they over-read the turn by a tenth or a third: too little
        for the turn test (its threshold is set for noise and quick turns) and nothing VO's
        speed test can see, yet fifty readings a second pull the bias to it (the demo's day
        2: 0.001-0.002 rad/s within a second; a tenth in a synthetic turn: 0.004 rad/s)."""
        last = self.slip_evidence_ns
        return last is not None and t - last < self.config.slip_hold_s * 1e9

    def _held_slip(self, t: int, speed: float) -> str:
        """The last slip, held while no witness judges the wheels, or ''.

        A wet floor does not dry when VO loses track, the camera goes off or the turn that
        showed the slip ends: the flag stays until VO judges the wheels again and finds no
        slip, the wheels stop, or slip_hold_s has passed since the last evidence. The IMU
        carries the velocity meanwhile, from the last one it had with the wheels in doubt.
        Only the independent witnesses' verdicts are held: the inertial velocity was shaped
        by the wheels themselves, and when it is the one that is wrong (it took in a slip
        nobody saw), holding its verdict against right wheels only makes it worse (home 0 of
        fusion_faults without the base's hints: RPE 6.1 % unheld, 9.7 % held; the same goes
        for weighing a window of its readings as one, below).
        """
        if self.slip_seen is None:
            return ''
        since, reason = self.slip_seen
        if (
            self._vo_judges(t)  # judged again, and found no slip
            or abs(speed) < 0.02  # stopped wheels over-report nothing
            or t - since > self.config.slip_hold_s * 1e9
        ):
            self.slip_seen = None
            return ''
        return f'{reason}, held'

    # -- VO ----------------------------------------------------------------------------------

    def on_vo_status(self, t: int, state: str, reason: str) -> None:
        """VO reports every frame, tracking or not: its status is also its heartbeat."""
        self.vo_state = (state, reason)
        self.vo_last_ns = max(t, self.vo_last_ns or t)
        vo = self.health['vo']
        if not self.config.gating:
            return
        if state and state != 'tracking':
            vo.set(REJECTED, reason or state, t)
        elif vo.state == REJECTED:
            vo.set(OK, '', t)

    def on_vo(self, odom: OdometryEstimate) -> None:
        c, vo = self.config, self.health['vo']
        t = odom.t_ns
        since, self.vo_prev_ns = self.vo_prev_ns, t
        self.vo_last_ns = max(t, self.vo_last_ns or t)
        gyro = self.gyro_record.mean(since, t, self.gyro)
        if not c.use_vo or self.t_ns is None or self.lifted:
            return
        state = self.vo_state[0]
        if c.gating and state and state != 'tracking':
            vo.count('not_tracking')
            return
        cov = odom.twist_covariance[:3, :3]
        if not np.all(np.isfinite(odom.twist)) or np.trace(cov) > 1.0:
            vo.count('no_twist')  # the first pose after a (re)start has no motion yet
            return
        self.vo_speed = (t, float(odom.twist[0]))
        crossing = since is None or since < self.crossing_until
        wheel_speed = None if crossing else self._wheel_speed(since, t)
        if wheel_speed is not None:
            self.slip_speed.add(t, wheel_speed - float(odom.twist[0]), abs(wheel_speed))
        result = self.ekf.update_body_velocity(odom.twist[:3], cov, self.gate[3])
        vo.record(result, t)
        if result.accepted and self.health['imu'].state != REJECTED:
            # VO's rotation has no wheel-radius error: the better witness of the gyro bias
            self.ekf.update_angular_rate(
                odom.twist[3:], gyro, odom.twist_covariance[3:, 3:], self.gate[3], (0, 1, 2)
            )

    def _wheel_speed(self, t0: int, t1: int) -> float | None:
        """The wheels' mean forward speed from t0 to t1 (a VO twist's interval), None when
        their record does not cover it. A record that ends at most 50 ms before t1 (wheel
        readings that arrive later than VO's, or come slower) is carried on at its last speed:
        held at its last distance instead, it reads a frame interval of 50 ms that ends 10 ms
        past the wheels' last stamp as 20 % slower than they go."""
        path = self.wheel_path
        if len(path) < 2 or t1 <= t0 or path[0][0] > t0 or path[-1][0] < t1 - 50_000_000:
            return None
        stamps = np.array([p[0] - t0 for p in path], float)
        distance = np.array([p[1] for p in path])
        end = float(t1 - t0)
        start, travelled = np.interp([0.0, end], stamps, distance)
        if end > stamps[-1]:
            last_speed = (distance[-1] - distance[-2]) / (stamps[-1] - stamps[-2])
            travelled = distance[-1] + last_speed * (end - stamps[-1])
        return float(travelled - start) / (end * 1e-9)

    def check_silence(self, t: int) -> None:
        """VO silent for vo_silent_s (camera off in low-power mode, or VO not running)."""
        vo = self.health['vo']
        if self.vo_last_ns is not None and t - self.vo_last_ns > self.config.vo_silent_s * 1e9:
            vo.set(REJECTED, 'silent', t)

    # -- outputs -----------------------------------------------------------------------------

    def estimate(self) -> OdometryEstimate | None:
        if self.t_ns is None:
            return None
        c, ekf = self.config, self.ekf
        T, pose_cov = ekf.pose(), ekf.pose_covariance()
        T[:3, 3], lag = self.published.position(ekf.p)
        pose_cov[:3, :3] += np.outer(lag, lag)  # where it is published is off by that much more
        twist = np.r_[ekf.body_velocity(), self.gyro - ekf.bg]
        twist_cov = np.zeros((6, 6))
        twist_cov[:3, :3] = ekf.velocity_covariance()
        twist_cov[3:, 3:] = ekf.cov[9:12, 9:12] + np.eye(3) * c.gyro_noise**2 * c.imu_rate_hz
        return OdometryEstimate(
            self.t_ns,
            c.odom_frame,
            c.base_frame,
            T,
            pose_cov,
            twist,
            twist_cov,
        )

    def verdicts(self) -> tuple:
        """What the statuses say, cheaply: it changes exactly when a state or reason does."""
        sensors = tuple((h.state, h.reason) for h in self.health.values())
        return (*sensors, self.lifted, self.low_power)

    def statuses(self) -> list[DiagnosticStatus]:
        out = [h.status() for h in self.health.values()]
        robot = {'lifted': str(self.lifted).lower(), 'low_power': str(self.low_power).lower()}
        robot['relocalization_requests'] = str(self.put_downs)
        flags = [k for k in ('lifted', 'low_power') if robot[k] == 'true']
        out.append(
            DiagnosticStatus(
                'fusion: robot',
                DiagnosticStatus.WARN if flags else DiagnosticStatus.OK,
                ', '.join(flags) or 'ok',
                'robot',
                robot,
            )
        )
        return out
