"""Error-state Kalman filter of a ground robot's base: IMU-driven prediction, velocity updates.

Nominal state: position p and velocity v in the odom frame, orientation R (odom <- base), gyro
bias bg and accelerometer bias ba (base frame). Error state (15): [dp, dv, dtheta, dbg, dba],
with the rotation error on the right (R = R_nominal Exp(dtheta)).

Only velocities are measured (wheel speed, VO twist, zero velocity), never absolute poses. A
velocity update still moves the position, through their correlation (the position integrated
the velocity's error): millimetres in normal running, decimetres after seconds of coasting on
the IMU; core.PublishedPosition keeps what is published continuous (REP-105 odom). Every update
is gated by its normalised innovation squared (NIS) against a chi-square quantile and returns
it, so that the reliability monitors can see how well each sensor agrees with the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from astro_slam.transforms import make_transform

GRAVITY = np.array([0.0, 0.0, -9.80665])
P, V, TH, BG, BA = (slice(3 * i, 3 * i + 3) for i in range(5))
NOT_POSITION = slice(3, 15)


def skew(w: np.ndarray) -> np.ndarray:
    return np.array([[0.0, -w[2], w[1]], [w[2], 0.0, -w[0]], [-w[1], w[0], 0.0]])


@dataclass(frozen=True)
class ImuNoise:
    """Continuous-time densities: white noise and bias random walk."""

    gyro: float  # rad/s/sqrt(Hz)
    accel: float  # m/s^2/sqrt(Hz)
    gyro_bias_walk: float  # rad/s^2/sqrt(Hz)
    accel_bias_walk: float  # m/s^3/sqrt(Hz)


@dataclass
class UpdateResult:
    accepted: bool
    nis: float


class ErrorStateEkf:
    """See the module docstring."""

    def __init__(self, noise: ImuNoise, initial_sigma_bg: float, initial_sigma_ba: float) -> None:
        self.noise = noise
        self.p = np.zeros(3)
        self.v = np.zeros(3)
        self.R = np.eye(3)
        self.bg = np.zeros(3)
        self.ba = np.zeros(3)
        self.cov = np.zeros((15, 15))
        self.cov[TH, TH] = np.diag([0.02, 0.02, 1e-6]) ** 2  # tilt unknown at start, yaw is 0
        self.cov[V, V] = np.eye(3) * 0.1**2
        self.cov[BG, BG] = np.eye(3) * initial_sigma_bg**2
        self.cov[BA, BA] = np.eye(3) * initial_sigma_ba**2

    # -- prediction ------------------------------------------------------------------------

    def predict(self, gyro: np.ndarray, accel: np.ndarray, dt: float, inflate: float = 1.0):
        """Integrates one IMU interval (base-frame readings); inflate scales the process noise
        (readings known to be poor, e.g. held over a saturated stretch)."""
        w = gyro - self.bg
        a = accel - self.ba
        R = self.R
        acc_world = R @ a + GRAVITY
        self.p = self.p + self.v * dt + 0.5 * acc_world * dt * dt
        self.v = self.v + acc_world * dt
        dR = Rotation.from_rotvec(w * dt).as_matrix()
        self.R = R @ dR

        F = np.eye(15)
        F[P, V] = np.eye(3) * dt
        F[V, TH] = -R @ skew(a) * dt
        F[V, BA] = -R * dt
        F[TH, TH] = dR.T
        F[TH, BG] = -np.eye(3) * dt
        n = self.noise
        Q = np.zeros((15, 15))
        Q[V, V] = np.eye(3) * (n.accel**2) * dt
        Q[TH, TH] = np.eye(3) * (n.gyro**2) * dt
        Q[BG, BG] = np.eye(3) * (n.gyro_bias_walk**2) * dt
        Q[BA, BA] = np.eye(3) * (n.accel_bias_walk**2) * dt
        self.cov = F @ self.cov @ F.T + Q * inflate

    def reopen_velocity(self, sigma: float = 0.5, zero: bool = False) -> None:
        """Velocity unknown again (put down after a lift: zero; or the filter lost it): a wide
        covariance and no correlation left with the rest of the state."""
        if zero:
            self.v = np.zeros(3)
        self._restart(V, np.eye(3) * sigma**2)

    def widen_after_unseen_motion(self, sigma_tilt: np.ndarray, sigma_velocity: float) -> None:
        """After motion the IMU partly missed: roll and pitch (body x, y) more uncertain by
        sigma_tilt (rad), and the velocity at least sigma_velocity (m/s) uncertain and no longer
        correlated with the rest of the state, whose correlations came from the same
        incomplete samples (left in, the first velocity updates after it tilt the attitude by
        the jolt's error: a pitch of 1.7 degrees on a level floor in fusion_faults' home 4)."""
        roll_pitch = slice(TH.start, TH.start + 2)
        self.cov[roll_pitch, roll_pitch] += np.diag(np.asarray(sigma_tilt, float) ** 2)
        current = float(np.sqrt(np.max(np.diag(self.cov[V, V]))))
        self.reopen_velocity(max(sigma_velocity, current))

    def widen_forward(self, sigma_velocity: float, seconds: float) -> None:
        """A forward velocity error of unknown sign and size sigma_velocity (m/s) that went in
        over the last `seconds`: the forward velocity widened by it, and the position by what it
        moved meanwhile, fully correlated (one cause), so that the next good velocity
        reading pulls both back."""
        forward = self.R[:, 0]
        u = np.zeros(15)
        u[P] = forward * sigma_velocity * seconds
        u[V] = forward * sigma_velocity
        self.cov += np.outer(u, u)

    def level(self, R: np.ndarray, sigma_tilt: float = 0.02) -> None:
        """A new attitude from gravity: roll and pitch as uncertain as one accelerometer
        reading makes them, and no longer correlated with the rest of the state."""
        yaw_var = max(float(self.cov[8, 8]), 1e-12)
        self.R = R
        self._restart(TH, np.diag([sigma_tilt**2, sigma_tilt**2, yaw_var]))

    def _restart(self, block: slice, cov: np.ndarray) -> None:
        """One error block known afresh: its covariance, with no correlation to the rest."""
        self.cov[block, :] = 0.0
        self.cov[:, block] = 0.0
        self.cov[block, block] = cov

    def rotate(self, gyro: np.ndarray, dt: float) -> None:
        """Attitude only, for a robot that is carried: its position is not tracked."""
        self.R = self.R @ Rotation.from_rotvec((gyro - self.bg) * dt).as_matrix()

    # -- updates ---------------------------------------------------------------------------

    def body_velocity(self) -> np.ndarray:
        return self.R.T @ self.v

    def update(
        self,
        residual: np.ndarray,
        H: np.ndarray,
        noise_cov: np.ndarray,
        gate: float,
        only: slice | None = None,
    ) -> UpdateResult:
        """Generic update; skipped (accepted=False) when NIS exceeds gate (gate <= 0: no gate).

        `only`: a Schmidt update that corrects those error-state entries and leaves the others'
        estimates as they were (their covariances still change with what the update taught
        about their correlations); the Joseph form keeps the covariance right for the partial
        gain.
        """
        HP = H @ self.cov
        S = HP @ H.T + noise_cov
        try:  # one factorisation of S for the NIS and the gain (S and P are symmetric)
            solved = np.linalg.solve(S, np.column_stack([residual, HP]))
        except np.linalg.LinAlgError:
            return UpdateResult(False, float('inf'))
        nis = float(residual @ solved[:, 0])
        if not np.isfinite(nis) or (gate > 0 and nis > gate):
            return UpdateResult(False, nis)
        K = solved[:, 1:].T
        if only is not None:
            keep = np.zeros((15, 1))
            keep[only] = 1.0
            K = K * keep
        dx = K @ residual
        I_KH = np.eye(15) - K @ H
        self.cov = I_KH @ self.cov @ I_KH.T + K @ noise_cov @ K.T  # Joseph form: stays PSD
        self._inject(dx)
        return UpdateResult(True, nis)

    def update_body_velocity(self, measured: np.ndarray, cov: np.ndarray, gate: float):
        """A base-frame linear velocity (wheels with the non-holonomic constraint, or VO)."""
        vb = self.body_velocity()
        H = np.zeros((3, 15))
        H[:, V] = self.R.T
        H[:, TH] = skew(vb)
        return self.update(measured - vb, H, cov, gate)

    def update_angular_rate(
        self, measured: np.ndarray, gyro: np.ndarray, cov: np.ndarray, gate: float, axes=(2,)
    ) -> UpdateResult:
        """An independent base-frame angular rate on the given axes (wheels: yaw only; VO: all
        three) against the gyro's mean over the same interval: it observes the gyro bias.

        It corrects the bias, and the attitude, velocity and accelerometer bias correlated with
        it, but not the position: a Schmidt update. A full one would also move the position now
        for the path a past bias error bent, fifty times a second, by what each noisy witness
        suggests (the wheels' turn rate has errors that last for metres, the encoder ticks and
        frame timing alternate), half a millimetre each on average: over a metre, more drift
        than the wheels have alone (home 2's 5-minute `loops`, fusion alone on its recorded
        inputs: RPE 0.94 % against the wheels' 0.59 %; without those moves 0.61 %). Odometry
        is to be locally right (REP-105); the path's past is the backend's to correct.
        """
        axes = list(axes)
        H = np.zeros((len(axes), 15))
        H[:, BG] = -np.eye(3)[axes]
        residual = measured[axes] - (gyro - self.bg)[axes]
        return self.update(residual, H, cov, gate, only=NOT_POSITION)

    def update_zero_velocity(self, sigma: float) -> UpdateResult:
        H = np.zeros((3, 15))
        H[:, V] = np.eye(3)
        return self.update(-self.v, H, np.eye(3) * sigma**2, 0.0)

    def _inject(self, dx: np.ndarray) -> None:
        self.p = self.p + dx[P]
        self.v = self.v + dx[V]
        self.R = self.R @ Rotation.from_rotvec(dx[TH]).as_matrix()
        self.bg = self.bg + dx[BG]
        self.ba = self.ba + dx[BA]

    # -- output ----------------------------------------------------------------------------

    def pose(self) -> np.ndarray:
        return make_transform(self.R, self.p)

    def pose_covariance(self) -> np.ndarray:
        """6x6 in ROS order (x, y, z, roll, pitch, yaw): position in odom, rotation about the
        base axes (the right-side error), as nav_msgs/Odometry means it."""
        index = np.r_[0:3, 6:9]
        return self.cov[np.ix_(index, index)].copy()

    def velocity_covariance(self) -> np.ndarray:
        """3x3 of the base-frame linear velocity."""
        return self.R.T @ self.cov[V, V] @ self.R
