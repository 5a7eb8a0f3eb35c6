"""People and pets walking through the home during a session, as moving textured boxes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astro_slam.sim.home import Box, Home
from astro_slam.sim.patrol import FloorGrid


@dataclass
class Walker:
    """Walks a free path back and forth at a steady pace, starting at t0_s."""

    name: str
    kind: str  # person or pet
    path: np.ndarray  # (N, 2)
    speed_m_s: float
    t0_s: float
    texture_seed: int

    def __post_init__(self) -> None:
        seg = np.linalg.norm(np.diff(self.path, axis=0), axis=1)
        self._s = np.r_[0.0, np.cumsum(seg)]

    def pose(self, t_s: float) -> tuple[np.ndarray, float] | None:
        """(xy, heading) at t_s, or None before it enters."""
        if t_s < self.t0_s or self._s[-1] <= 0:
            return None
        length = self._s[-1]
        s = ((t_s - self.t0_s) * self.speed_m_s) % (2 * length)
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
