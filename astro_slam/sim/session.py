"""One simulated session end to end: world, motion, sensors, faults, then the bag and labels.

Everything comes from (home, scenario, session index, seed); the same arguments give the same
bytes. Sensor streams are generated first, then merged in time order and written, rendering
camera frames as their turn comes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from astro_slam.sim import faults
from astro_slam.sim.agents import Walker, keep_clear, make_walkers
from astro_slam.sim.home import Home
from astro_slam.sim.lighting import LightPlan, plan_lights
from astro_slam.sim.motion import RATE_HZ, Motion, drive
from astro_slam.sim.patrol import FloorGrid, patrol_waypoints
from astro_slam.sim.renderer import Intrinsics
from astro_slam.sim.rig import Rig
from astro_slam.sim.scenarios import Scenario, SessionSpec
from astro_slam.sim.sensors import (
    ImuSeries,
    ImuSpec,
    WheelSeries,
    WheelSpec,
    imu_readings,
    wheel_odometry,
)
from astro_slam.transforms import make_transform

EPOCH_NS = 1_767_225_600 * 10**9  # 2026-01-01 00:00 UTC: day 0 of every scenario
GROUND_TRUTH_HZ = 100.0
YIELD_STEP = 20  # motion samples (1 ms) per step of the walkers yielding to the robot


@dataclass
class SessionPlan:
    """Everything about a session except the images, which are rendered while writing."""

    spec: SessionSpec
    home: Home
    rig: Rig
    motion: Motion
    imu: ImuSeries
    wheels: WheelSeries
    lights: LightPlan
    walkers: list[Walker]
    frame_t_s: np.ndarray  # camera frames that exist (dropped ones removed)
    t0_ns: int
    labels: dict[str, Any] = field(default_factory=dict)

    def t_ns(self, t_s: float) -> int:
        return self.t0_ns + int(round(t_s * 1e9))

    def T_map_base(self, t_s: float) -> np.ndarray:
        i = min(int(round(t_s * RATE_HZ)), len(self.motion) - 1)
        m = self.motion
        R = Rotation.from_euler('ZY', [m.yaw[i], m.pitch[i]]).as_matrix()
        return make_transform(R, np.array([*m.xy[i], m.z[i]]))


def _rng(seed: int, session: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng([seed, session, purpose])


def plan_session(
    home: Home, scenario: Scenario, index: int, seed: int, change_events: list[dict]
) -> SessionPlan:
    """Motion, sensor streams, faults and their labels for session `index`."""
    spec = scenario.sessions[index]
    grid = FloorGrid(home)
    waypoints = [p for p, _ in patrol_waypoints(home, grid, _rng(seed, index, 1), scenario.laps)]
    kidnap = None
    if 'kidnap' in spec.faults:
        rooms = [r for r in home.rooms if r.kind != 'hallway']
        target = rooms[int(_rng(seed, index, 2).integers(len(rooms)))]
        kidnap = (0.45 * spec.duration_s, grid.most_open(target.rect))
    motion = drive(home, grid, waypoints, spec.duration_s, kidnap=kidnap)
    zones = list(home.zones)
    if 'slip' in spec.faults:
        zones.append(faults.wet_floor(home, _rng(seed, index, 3)))
    fault_labels = (
        faults.apply_slip(motion, zones, _rng(seed, index, 4)) if ('slip' in spec.faults) else []
    )
    low_power = faults.low_power_window(spec.duration_s) if 'low_power' in spec.faults else None
    imu_spec = ImuSpec()
    imu = imu_readings(
        motion,
        imu_spec,
        _rng(seed, index, 5),
        faults.imu_rate(motion, low_power, imu_spec.rate_hz),
    )
    wheels = wheel_odometry(motion, WheelSpec())
    fault_labels += faults.bump_labels(motion, imu)
    fault_labels += [dict(e) for e in motion.events if e['kind'] == 'kidnap']
    frame_t = np.arange(0.0, spec.duration_s - 1e-9, 1.0 / scenario.camera_hz)
    frame_t = np.round(frame_t * RATE_HZ) / RATE_HZ
    keep = np.ones(len(frame_t), bool)
    if low_power:
        keep &= ~((frame_t >= low_power[0]) & (frame_t < low_power[1]))
        fault_labels.append({'kind': 'low_power', 't0_s': low_power[0], 't1_s': low_power[1]})
    if 'dropped_frames' in spec.faults:
        dropped = faults.dropped_frames(len(frame_t), scenario.camera_hz, _rng(seed, index, 6))
        keep &= ~dropped
        fault_labels += [
            {'kind': 'dropped_frames', 't0_s': a, 't1_s': b}
            for a, b in faults.intervals(dropped, frame_t, merge_gap_s=0.0)
        ]
    if 'jitter' in spec.faults:
        fault_labels.append(
            {'kind': 'jitter', 't0_s': 0.0, 't1_s': spec.duration_s, 'sigma_ms': 1.5}
        )
    rig = Rig(scenario.rig, _intrinsics(scenario))
    t0_ns = EPOCH_NS + spec.day * 86_400 * 10**9 + int(spec.start_hour * 3600) * 10**9
    plan = SessionPlan(
        spec,
        home,
        rig,
        motion,
        imu,
        wheels,
        plan_lights(home, spec, _rng(seed, index, 7)),
        [
            keep_clear(w, motion.t_s[::YIELD_STEP], motion.xy[::YIELD_STEP], grid)
            for w in make_walkers(
                home, grid, spec.people, spec.pets, spec.duration_s, _rng(seed, index, 8)
            )
        ],
        frame_t[keep],
        t0_ns,
    )
    plan.labels = _labels(plan, scenario, index, seed, fault_labels, change_events)
    return plan


def _intrinsics(scenario: Scenario) -> Intrinsics:
    scale = scenario.width / 640.0
    return Intrinsics(
        scenario.width,
        scenario.height,
        460.0 * scale,
        460.0 * scale,
        (scenario.width - 1) / 2,
        (scenario.height - 1) / 2,
    )


def revisits(
    motion: Motion,
    min_gap_s: float = 30.0,
    radius_m: float = 0.5,
    angle_rad: float = np.radians(30),
) -> list[dict]:
    """Moments the robot is back where it was (position and heading) at least min_gap_s ago."""
    step = RATE_HZ  # one pose per second
    xy, yaw, t = motion.xy[::step], motion.yaw[::step], motion.t_s[::step]
    grounded = ~motion.lifted[::step]
    out = []
    for i in range(len(t)):
        earlier = np.flatnonzero((t < t[i] - min_gap_s) & grounded)
        if not grounded[i] or not len(earlier):
            continue
        dist = np.hypot(*(xy[earlier] - xy[i]).T)
        turn = np.abs(np.angle(np.exp(1j * (yaw[earlier] - yaw[i]))))
        match = earlier[(dist < radius_m) & (turn < angle_rad)]
        if len(match):
            j = match[np.argmin(dist[(dist < radius_m) & (turn < angle_rad)])]
            out.append(
                {
                    't_s': float(t[i]),
                    'earlier_t_s': float(t[j]),
                    'distance_m': float(np.hypot(*(xy[j] - xy[i]))),
                }
            )
    return out


def _labels(
    plan: SessionPlan,
    scenario: Scenario,
    index: int,
    seed: int,
    fault_labels: list[dict],
    change_events: list[dict],
) -> dict[str, Any]:
    def ns(label: dict) -> dict:
        out = {k: v for k, v in label.items() if k not in ('t0_s', 't1_s')}
        out['t0_ns'], out['t1_ns'] = plan.t_ns(label['t0_s']), plan.t_ns(label['t1_s'])
        return out

    return {
        'format': 'astro_slam.sim.labels/1',
        'scenario': scenario.name,
        'session': plan.spec.name,
        'session_index': index,
        'home_seed': plan.home.seed,
        'seed': seed,
        'rig': scenario.rig,
        't0_ns': plan.t0_ns,
        'duration_s': plan.spec.duration_s,
        'faults': sorted((ns(f) for f in fault_labels), key=lambda f: f['t0_ns']),
        'changes': change_events,
        'lighting': plan.lights.timeline(),
        'walkers': [
            {'name': w.name, 'kind': w.kind, 'enters_ns': plan.t_ns(w.t0_s)} for w in plan.walkers
        ],
        'revisits': [
            {
                't_ns': plan.t_ns(r['t_s']),
                'earlier_t_ns': plan.t_ns(r['earlier_t_s']),
                'distance_m': r['distance_m'],
            }
            for r in revisits(plan.motion)
        ],
        'twin_rooms': list(plan.home.twins),
        'rooms': [{'id': r.id, 'name': r.name, 'rect': list(r.rect)} for r in plan.home.rooms],
    }


def write_labels(plan: SessionPlan, path: Path) -> None:
    path.write_text(json.dumps(plan.labels, indent=1) + '\n', encoding='utf-8')
