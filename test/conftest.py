"""Shared fixtures: the offline message factory and tiny simulated bags written to tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from astro_slam.msgs.factory import RosbagsFactory, default_factory
from astro_slam.sim.bag_export import write_kinematic_bag
from astro_slam.sim.kinematic import KinematicConfig, KinematicRun, simulate_kinematic


@pytest.fixture(scope='session')
def factory() -> RosbagsFactory:
    return default_factory()


@pytest.fixture(scope='session')
def kinematic_run() -> KinematicRun:
    return simulate_kinematic(KinematicConfig(duration_s=3.0, rate_hz=20.0, seed=7))


@pytest.fixture(params=['mcap', 'sqlite3'])
def tiny_bag(request: pytest.FixtureRequest, tmp_path: Path, kinematic_run: KinematicRun) -> Path:
    """A 3 s kinematic bag (wheel, IMU, ground truth, /tf_static) in each storage format."""
    return write_kinematic_bag(kinematic_run, tmp_path / f'tiny_{request.param}', request.param)
