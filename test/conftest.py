"""Shared fixtures: the offline message factory and tiny simulated sessions written to tmp_path.

Bags for framework tests come from the real simulator without its cameras: the same sensor
models, fast enough for unit tests. `walk_bag` is the one short session with cameras that the
whole-stack tests share (simulated once per test run).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from astro_slam.msgs.factory import RosbagsFactory, default_factory
from astro_slam.sim.generate import generate_home
from astro_slam.sim.recorder import SessionRecorder
from astro_slam.sim.scenarios import SCENARIOS, walk_scenario
from astro_slam.sim.session import SessionPlan, plan_session


def tiny_plan(duration_s: float = 3.0, seed: int = 7) -> SessionPlan:
    scenario = SCENARIOS['tiny']
    spec = dataclasses.replace(scenario.sessions[0], duration_s=duration_s, people=0)
    scenario = dataclasses.replace(scenario, sessions=(spec,))
    return plan_session(generate_home(1, n_rooms=3), scenario, 0, seed, [])


def write_sensor_bag(plan: SessionPlan, path: Path, storage: str = 'mcap') -> Path:
    """The session's IMU, wheels, flags, TF and ground truth, without images."""
    SessionRecorder(plan).write(path, storage=storage, cameras=False)
    return path


@pytest.fixture(scope='session')
def factory() -> RosbagsFactory:
    return default_factory()


@pytest.fixture(scope='session')
def walk_bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`walk_scenario` in home 0 (seed 3), with cameras; beside it home.yaml and labels."""
    pytest.importorskip('moderngl')
    from astro_slam.sim.simulate import simulate

    out = tmp_path_factory.mktemp('walk')
    simulate(walk_scenario(), 0, 3, out, progress=False)
    return out / 'tiny' / 'walk'


@pytest.fixture(scope='session')
def sensor_plan() -> SessionPlan:
    return tiny_plan()


@pytest.fixture(params=['mcap', 'sqlite3'])
def tiny_bag(request: pytest.FixtureRequest, tmp_path: Path, sensor_plan: SessionPlan) -> Path:
    """A 3 s simulated session without cameras, in each storage format."""
    return write_sensor_bag(sensor_plan, tmp_path / f'tiny_{request.param}', request.param)
