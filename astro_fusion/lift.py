"""Lifted or carried, told from the IMU alone, for bases without a wheel-drop switch.

A floor robot's base never rises more than a door threshold (1-2 cm). So the vertical specific
force, less its slow mean (accelerometer bias, gravity model), is integrated twice into a
leaky height: lifted when that height passes `height_m`. While lifted, the upward and downward
travel are summed; the robot is put down once it has come down most of the way it went up and
has been vertically quiet for `still_s`. The leak (1 s) keeps a bias residual from building
up a height while the robot drives; it also makes a lift slower than about a second invisible,
which people do not do.
"""

from __future__ import annotations

import math

LEAK_S = 1.0  # velocity and height forget their past with this time constant
BIAS_S = 10.0  # time constant of the slow mean removed from the vertical force
QUIET_M_S = 0.05  # vertical speed under which the base is vertically still


class LiftDetector:
    """See the module docstring. Feed `update` every IMU interval; read `lifted`."""

    def __init__(self, height_m: float, still_s: float) -> None:
        self.height_m = height_m
        self.still_ns = int(still_s * 1e9)
        self.mean_az = 0.0
        self.v = 0.0
        self.h = 0.0
        self.lifted = False
        self.up = 0.0
        self.down = 0.0
        self.quiet_since: int | None = None

    def update(self, t_ns: int, dt: float, a_z: float | None) -> None:
        """a_z: vertical specific force minus g (m/s^2), None when the reading is clipped."""
        keep = math.exp(-dt / LEAK_S)
        if a_z is None and not self.lifted:
            # A clipped reading is a threshold's impact: the readings just before it, each
            # standing for a spike far shorter than its interval, integrate into a height no
            # floor robot reaches (homes 3-5 of fusion_faults without the base's hints: a false
            # lift on a threshold at low power's 50 Hz, and a lift that never came down).
            self.v = self.h = 0.0
            return
        if a_z is not None:
            if not self.lifted:
                self.mean_az += (a_z - self.mean_az) * min(1.0, dt / BIAS_S)
            self.v = self.v * keep + (a_z - self.mean_az) * dt
        else:
            self.v *= keep
        self.h = self.h * keep + self.v * dt
        if not self.lifted:
            if self.h > self.height_m:
                self.lifted, self.up, self.down, self.quiet_since = True, self.h, 0.0, None
            return
        self.up += max(self.v, 0.0) * dt
        self.down += max(-self.v, 0.0) * dt
        quiet = abs(self.v) < QUIET_M_S
        self.quiet_since = (self.quiet_since or t_ns) if quiet else None
        came_down = self.down >= 0.6 * self.up
        if came_down and self.quiet_since is not None and t_ns - self.quiet_since >= self.still_ns:
            self.reset()

    def reset(self) -> None:
        """Grounded again (by the data, or told so by the wheel-drop hint)."""
        self.lifted = False
        self.v = self.h = self.up = self.down = 0.0
        self.quiet_since = None
