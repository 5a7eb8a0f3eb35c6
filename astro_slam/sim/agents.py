"""People and pets walking through the home during a session, as moving textured boxes.

They keep out of the robot's way (`keep_clear`): a walker whose next step would come closer to
the robot than `KEEP_CLEAR_M` waits, steps back or steps aside, and walks on once the way is
clear. Without that they walked through the robot, filling the camera's view from a few
centimetres, which no person or pet does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from astro_slam.sim.home import Box, Home
from astro_slam.sim.patrol import ROBOT_RADIUS_M, FloorGrid

# Centre to robot centre: the robot's radius, the walker's half-size (a person's shoulders, a
# pet from its middle to its nose) and, for people, a few centimetres to spare.
KEEP_CLEAR_M = {'person': ROBOT_RADIUS_M + 0.38, 'pet': ROBOT_RADIUS_M + 0.33}


@dataclass
class Walker:
    """Walks a free path back and forth at a steady pace, starting at t0_s."""

    name: str
    kind: str  # person or pet
    path: np.ndarray  # (N, 2)
    speed_m_s: float
    t0_s: float
    texture_seed: int
    # (times, distances walked, (N, 2) offsets from the path) when it yields to the robot
    # (`keep_clear`); None: a steady pace along the path
    schedule: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        seg = np.linalg.norm(np.diff(self.path, axis=0), axis=1)
        self._s = np.r_[0.0, np.cumsum(seg)]

    @property
    def length_m(self) -> float:
        return float(self._s[-1])

    def pose(self, t_s: float) -> tuple[np.ndarray, float] | None:
        """(xy, heading) at t_s, or None before it enters."""
        if t_s < self.t0_s or self.length_m <= 0:
            return None
        if self.schedule is None:
            return self.at((t_s - self.t0_s) * self.speed_m_s)
        times, walked, aside = self.schedule
        xy, heading = self.at(float(np.interp(t_s, times, walked)))
        offset = [np.interp(t_s, times, aside[:, i]) for i in (0, 1)]
        return xy + offset, heading

    def at(self, walked: float) -> tuple[np.ndarray, float]:
        """(xy, heading) after walking this far along the path, back and forth."""
        length = self._s[-1]
        s = walked % (2 * length)
        forward = s <= length
        s = s if forward else 2 * length - s
        i = min(int(np.searchsorted(self._s, s, side='right')) - 1, len(self.path) - 2)
        a, b = self.path[i], self.path[i + 1]
        u = (s - self._s[i]) / max(self._s[i + 1] - self._s[i], 1e-9)
        heading = float(np.arctan2(*(b - a)[::-1])) + (0 if forward else np.pi)
        return a + u * (b - a), heading

    def boxes(self, t_s: float) -> list[Box]:
        state = self.pose(t_s)
        if state is None:
            return []
        (x, y), yaw = state
        c, s = np.cos(yaw), np.sin(yaw)
        texture = ('skin', self.texture_seed)
        if self.kind == 'pet':
            nose = (x + 0.25 * c, y + 0.25 * s, 0.28)
            return [
                Box(self.name, 'pet', (x, y, 0.18), (0.45, 0.2, 0.22), yaw, texture),
                Box(self.name, 'pet', nose, (0.14, 0.14, 0.14), yaw, texture),
            ]
        swing = 0.12 * np.sin(2 * np.pi * 1.8 * t_s)  # legs in step with walking
        legs = [
            Box(
                self.name,
                'person',
                (
                    x + side * swing * c - 0.1 * side * s,
                    y + side * swing * s + 0.1 * side * c,
                    0.42,
                ),
                (0.14, 0.14, 0.84),
                yaw,
                texture,
            )
            for side in (-1, 1)
        ]
        return [
            *legs,
            Box(self.name, 'person', (x, y, 1.15), (0.25, 0.45, 0.62), yaw, texture),
            Box(self.name, 'person', (x, y, 1.6), (0.2, 0.18, 0.24), yaw, ('skin', 7)),
        ]


def make_walkers(
    home: Home,
    grid: FloorGrid,
    people: int,
    pets: int,
    duration_s: float,
    rng: np.random.Generator,
) -> list[Walker]:
    """Walkers on planned free paths between random rooms, entering at random times."""
    walkers = []
    spots = [grid.most_open(r.rect) for r in home.rooms]
    for i in range(people + pets):
        kind = 'person' if i < people else 'pet'
        a, b = rng.choice(len(spots), 2, replace=False)
        try:
            path = np.array(grid.plan(spots[a], spots[b]))
        except ValueError:
            continue
        walkers.append(
            Walker(
                f'{kind} {i}',
                kind,
                path,
                float(rng.uniform(0.8, 1.2) if kind == 'person' else 1.5),
                float(rng.uniform(0, duration_s * 0.5)),
                int(rng.integers(1 << 30)),
            )
        )
    return walkers


def keep_clear(walker: Walker, t_s: np.ndarray, robot_xy: np.ndarray, grid: FloorGrid) -> Walker:
    """The walker yielding to the robot, whose positions at times t_s (a fine grid) are given.

    It enters once its starting point is clear; then each step it walks on (back towards its
    path, if it had stepped aside) when that leaves it at least KEEP_CLEAR_M from the robot,
    else takes whichever of waiting, stepping back along its path, walking on or stepping aside
    (away from the robot, onto free floor) keeps it farthest from the robot.
    """
    clear = KEEP_CLEAR_M[walker.kind]
    start_clear = np.linalg.norm(robot_xy - walker.path[0], axis=1) >= clear
    enter = np.flatnonzero(start_clear & (t_s >= walker.t0_s))
    if walker.length_m <= 0 or not len(enter):
        return walker
    t0_s = max(walker.t0_s, float(t_s[enter[0]]))
    after = t_s > t0_s
    times = np.r_[t0_s, t_s[after]]
    robot = np.vstack([robot_xy[enter[:1]], robot_xy[after]])
    walked = np.zeros(len(times))
    aside = np.zeros((len(times), 2))  # offset from the path

    def free(xy: np.ndarray) -> bool:
        r, c = grid.cell(xy)
        inside = 0 <= r < grid.shape[0] and 0 <= c < grid.shape[1]
        return inside and grid.clearance_m[r, c] >= 0.15

    for k in range(1, len(times)):
        step = walker.speed_m_s * (times[k] - times[k - 1])
        now, offset = walked[k - 1], aside[k - 1]
        back_to_path = offset * max(0.0, 1 - step / max(np.linalg.norm(offset), 1e-9))
        options = [(now, offset), (now - step, offset), (now + step, back_to_path)]
        on_path = walker.at(now)[0]
        away = on_path + offset - robot[k]
        sidestep = offset + step * away / max(np.linalg.norm(away), 1e-9)
        if free(on_path + sidestep):
            options.append((now, sidestep))
        distance = [np.linalg.norm(walker.at(w)[0] + o - robot[k]) for w, o in options]
        # Walking on when that keeps clear; otherwise the farthest, waiting winning ties.
        best = 2 if distance[2] >= clear else int(np.argmax(distance))
        walked[k], aside[k] = options[best]
    return dataclasses.replace(walker, t0_s=t0_s, schedule=(times, walked, aside))
