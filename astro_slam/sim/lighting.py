"""Light over a session: the sun through each room's windows, ceiling lights, dimming, IR."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astro_slam.sim.home import Home
from astro_slam.sim.renderer import Lighting
from astro_slam.sim.scenarios import SessionSpec


def daylight(hour: float) -> float:
    """0 at night, 1 at noon: the sun's share of its full strength (6 h to 18 h)."""
    return float(max(0.0, np.sin(np.pi * (hour - 6.0) / 12.0))) if 6.0 < hour % 24 < 18.0 else 0.0


@dataclass
class LightPlan:
    """Which lights are on when, for one session."""

    home: Home
    spec: SessionSpec
    on: np.ndarray  # (rooms,) bool at the start
    switches: list[tuple[float, int]]  # (time s, room) toggled then
    windows: np.ndarray  # (rooms,) number of windows

    def at(self, t_s: float) -> Lighting:
        on = self.on.copy()
        for when, room in self.switches:
            if t_s >= when:
                on[room] = ~on[room]
        sun = daylight(self.spec.start_hour + t_s / 3600.0)
        ambient = 0.05 * sun + 0.45 * sun * np.minimum(self.windows, 2) / 2
        return Lighting(
            light_power=on.astype(float) * 1.1,
            ambient=ambient,
            sky=0.3 + 2.5 * sun,
            ir_power=0.6 if self.spec.ir_illuminator else 0.0,
            dimming=self.spec.dimming,
        )

    def timeline(self, step_s: float = 1.0) -> list[dict]:
        """Light per second, for the labels."""
        out = []
        for t in np.arange(0.0, self.spec.duration_s, step_s):
            light = self.at(float(t))
            out.append(
                {
                    't_s': float(t),
                    'lights_on': light.light_power.astype(bool).tolist(),
                    'daylight': daylight(self.spec.start_hour + t / 3600.0),
                    'dimming': self.spec.dimming,
                    'ir': bool(self.spec.ir_illuminator),
                }
            )
        return out


def plan_lights(home: Home, spec: SessionSpec, rng: np.random.Generator) -> LightPlan:
    n = len(home.rooms)
    on = rng.random(n) < spec.lights_on
    windows = np.array(
        [
            sum(1 for b in home.boxes if b.kind == 'window' and b.name == f'window {r.id}')
            for r in home.rooms
        ]
    )
    switches = sorted(
        (float(rng.uniform(0.2, 0.8) * spec.duration_s), int(rng.integers(n)))
        for _ in range(spec.light_switches)
    )
    return LightPlan(home, spec, on, switches, windows)
