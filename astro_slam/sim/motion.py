"""The robot's true motion at 1 kHz: a differential drive following the patrol, with limits.

Speed and turn rate follow a pursuit controller under acceleration limits, so the motion is
what a real base does (up to 0.5 m/s and 1.5 rad/s). The robot turns on the spot at each
waypoint to look around. Door thresholds lift the base by their height for the crossing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from astro_slam.sim.home import Door, Home
from astro_slam.sim.patrol import FloorGrid

RATE_HZ = 1000


@dataclass(frozen=True)
class DriveLimits:
    max_speed_m_s: float = 0.4
    max_turn_rad_s: float = 1.2
    max_accel_m_s2: float = 0.6
    max_turn_accel_rad_s2: float = 2.5
    look_around_rad: float = 2 * np.pi  # turn on the spot at each waypoint


@dataclass
class Motion:
    """Sampled true motion; every array has one entry per 1 ms step."""

    t_s: np.ndarray
    xy: np.ndarray  # (N, 2) map frame
    yaw: np.ndarray
    z: np.ndarray  # base height over the floor (thresholds, lifting)
    pitch: np.ndarray
    v: np.ndarray  # forward speed over the floor
    w: np.ndarray  # yaw rate
    wheel_v: np.ndarray  # what the wheels turn at (differs when slipping or lifted)
    wheel_w: np.ndarray  # the yaw rate the wheels' difference says
    lifted: np.ndarray  # bool
    events: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.t_s)


class _Integrator:
    def __init__(self, x: float, y: float, yaw: float, limits: DriveLimits) -> None:
        self.x, self.y, self.yaw, self.v, self.w = x, y, yaw, 0.0, 0.0
        self.limits = limits
        # x, y, yaw, v, w, z, lifted, wheel_v
        self.rows: list[tuple[float, float, float, float, float, float, float, float]] = []

    def step(self, v_cmd: float, w_cmd: float) -> None:
        lim, dt = self.limits, 1.0 / RATE_HZ
        self.v += float(np.clip(v_cmd - self.v, -lim.max_accel_m_s2 * dt, lim.max_accel_m_s2 * dt))
        self.w += float(
            np.clip(
                w_cmd - self.w, -lim.max_turn_accel_rad_s2 * dt, lim.max_turn_accel_rad_s2 * dt
            )
        )
        self.x += self.v * np.cos(self.yaw) * dt
        self.y += self.v * np.sin(self.yaw) * dt
        self.yaw += self.w * dt
        self.rows.append((self.x, self.y, self.yaw, self.v, self.w, 0.0, 0.0, self.v))

    def carry(self, path: list[np.ndarray], budget: int) -> None:
        """Lifted, carried along a path at walking pace, put down: the wheels spin freely."""
        lift_steps, speed = RATE_HZ, 0.6
        points = [np.array([self.x, self.y])]
        for a, b in zip(path[:-1], path[1:], strict=True):
            n = max(1, int(np.linalg.norm(b - a) / speed * RATE_HZ))
            points += [a + (b - a) * (k + 1) / n for k in range(n)]
        n_carry = len(points)
        total = n_carry + 2 * lift_steps
        yaw_end = self.yaw + 1.3  # people do not carry a robot facing the way it was
        for k in range(total):
            if len(self.rows) >= budget:
                return
            i = min(max(k - lift_steps, 0), n_carry - 1)
            self.x, self.y = float(points[i][0]), float(points[i][1])
            phase = min(k, total - k, lift_steps) / lift_steps
            z = 0.35 * (1 - np.cos(np.pi * phase)) / 2
            self.yaw += (yaw_end - self.yaw) * 0.002
            self.rows.append((self.x, self.y, self.yaw, 0.0, 0.0, z, 1.0, 0.15))
        self.v = self.w = 0.0

    def follow(self, path: list[np.ndarray], budget: int, stop_at: int | None = None) -> None:
        lim = self.limits
        for i, target in enumerate(path[1:], 1):
            last = i == len(path) - 1
            while len(self.rows) < budget and (stop_at is None or len(self.rows) < stop_at):
                dx, dy = target[0] - self.x, target[1] - self.y
                dist = float(np.hypot(dx, dy))
                if dist < (0.03 if last else 0.25):
                    break
                err = float(np.angle(np.exp(1j * (np.arctan2(dy, dx) - self.yaw))))
                v = lim.max_speed_m_s * max(0.0, 1.0 - abs(err) / 0.7)
                if last:
                    v = min(v, np.sqrt(2 * lim.max_accel_m_s2 * 0.8 * dist))
                self.step(v, float(np.clip(3.0 * err, -lim.max_turn_rad_s, lim.max_turn_rad_s)))

    def stop(self, budget: int) -> None:
        while (abs(self.v) > 1e-4 or abs(self.w) > 1e-4) and len(self.rows) < budget:
            self.step(0.0, 0.0)

    def turn(self, angle: float, budget: int) -> None:
        start, rate = self.yaw, 0.8 * np.sign(angle)
        while abs(self.yaw - start) < abs(angle) - 0.15 and len(self.rows) < budget:
            self.step(0.0, rate)
        self.stop(budget)

    def wait(self, steps: int, budget: int) -> None:
        for _ in range(min(steps, budget - len(self.rows))):
            self.step(0.0, 0.0)


def drive(
    home: Home,
    grid: FloorGrid,
    waypoints: list[np.ndarray],
    duration_s: float,
    limits: DriveLimits = DriveLimits(),
    kidnap: tuple[float, np.ndarray] | None = None,
) -> Motion:
    """Visits the waypoints in turn, looking around at each, for duration_s.

    Args:
        kidnap: (time s, place): the robot is picked up then, carried to `place` and put down;
            it then goes on with its patrol from there.
    """
    budget = int(duration_s * RATE_HZ)
    robot = _Integrator(*home.dock, limits)
    robot.wait(RATE_HZ, budget)  # one still second on the dock: IMU biases can settle
    kidnap_step = int(kidnap[0] * RATE_HZ) if kidnap else None
    events = []
    for goal in waypoints:
        if len(robot.rows) >= budget:
            break
        try:
            path = grid.plan(np.array([robot.x, robot.y]), goal)
        except ValueError:
            continue  # a waypoint walled in by today's clutter is skipped
        robot.follow(path, budget, kidnap_step)
        if kidnap_step is not None and len(robot.rows) >= kidnap_step:
            robot.stop(budget)
            start = len(robot.rows)
            robot.carry(grid.plan(np.array([robot.x, robot.y]), kidnap[1]), budget)
            events.append(
                {'kind': 'kidnap', 't0_s': start / RATE_HZ, 't1_s': len(robot.rows) / RATE_HZ}
            )
            kidnap_step = None
            continue
        robot.stop(budget)
        robot.turn(limits.look_around_rad, budget)
    robot.wait(budget - len(robot.rows), budget)
    rows = np.array(robot.rows[:budget]).reshape(-1, 8)
    motion = Motion(
        t_s=np.arange(len(rows)) / RATE_HZ,
        xy=rows[:, :2].copy(),
        yaw=rows[:, 2].copy(),
        z=rows[:, 5].copy(),
        pitch=np.zeros(len(rows)),
        v=rows[:, 3].copy(),
        w=rows[:, 4].copy(),
        wheel_v=rows[:, 7].copy(),
        wheel_w=rows[:, 4].copy(),
        lifted=rows[:, 6] > 0.5,
        events=events,
    )
    _thresholds(home, motion)
    return motion


WHEELBASE_M = 0.2  # front caster to drive axle; the base is centred between them
STRIP_HALF_WIDTH_M = 0.07


def _on_strip(points: np.ndarray, door: Door, along: int) -> np.ndarray:
    """0..1: how far a wheel at each point is up on the threshold (1 cm edge ramp)."""
    across = 1 - along
    centre_along = door.xy[1] if along else door.xy[0]
    centre_across = door.xy[0] if along else door.xy[1]
    d = np.abs(points[:, along] - centre_along)
    ramp = np.clip((STRIP_HALF_WIDTH_M + 0.005 - d) / 0.01, 0.0, 1.0)
    return ramp * (np.abs(points[:, across] - centre_across) < door.width_m / 2)


def _thresholds(home: Home, motion: Motion) -> None:
    """Lifts and tilts the base while a wheel is on a threshold, and records each crossing."""
    heading = np.stack([np.cos(motion.yaw), np.sin(motion.yaw)], axis=1)
    front = motion.xy + heading * WHEELBASE_M / 2
    rear = motion.xy - heading * WHEELBASE_M / 2
    for door in home.doors:
        along = 1 if door.wall_axis == 'x' else 0  # the axis the robot crosses along
        grounded = ~motion.lifted
        on_front = _on_strip(front, door, along) * grounded
        on_rear = _on_strip(rear, door, along) * grounded
        if not (on_front.any() or on_rear.any()):
            continue
        h = door.threshold_m
        motion.z += h * (on_front + on_rear) / 2
        motion.pitch += -np.arctan(h * (on_front - on_rear) / WHEELBASE_M)
        busy = (on_front + on_rear) > 0
        edges = np.flatnonzero(np.diff(busy.astype(int)))
        if busy[0]:
            edges = np.r_[0, edges]
        for start, end in zip(edges[::2], edges[1::2], strict=False):
            motion.events.append(
                {
                    'kind': 'threshold',
                    't0_s': float(motion.t_s[start]),
                    't1_s': float(motion.t_s[end]),
                    'door': list(door.rooms),
                    'height_m': h,
                }
            )
