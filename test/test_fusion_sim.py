"""Fusion on a short simulated patrol (no cameras): a threshold bump, a wet floor and a lift,
each told from the data alone and checked against the simulator's labels."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from conftest import write_sensor_bag

from astro_fusion.reliability import raised_flags
from astro_slam.eval.detection import runs, score
from astro_slam.msgs.diagnostics import from_diagnostic_array
from astro_slam.msgs.poses import from_odometry
from astro_slam.msgs.time import header_ns, stamp_to_ns
from astro_slam.sim.generate import generate_home
from astro_slam.sim.scenarios import SCENARIOS, SessionSpec
from astro_slam.sim.session import plan_session
from astro_slam.tools.bag_io import BagReader
from astro_slam.tools.replay import ReplayOptions, replay

FLAG_OF = {'bump': 'saturated', 'slip': 'slip', 'kidnap': 'lifted'}  # fault kind -> flag


@pytest.fixture(scope='module')
def patrol(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """24 s in a three-room home that crosses thresholds, is carried off at 11.5 s and is put
    down next to a wet floor; the base's wheel_drop flag is ignored."""
    spec = SessionSpec('faults', 24.0, faults=('slip', 'kidnap'))
    scenario = dataclasses.replace(SCENARIOS['tiny'], sessions=(spec,))
    plan = plan_session(generate_home(3, n_rooms=3), scenario, 0, 0, [])
    tmp = tmp_path_factory.mktemp('fusion_sim')
    bag = write_sensor_bag(plan, tmp / 'bag')
    config = tmp / 'fusion.yaml'
    config.write_text('fusion:\n  ros__parameters:\n    use_base_hints: false\n')
    options = ReplayOptions(tmp / 'out', config, components=('fusion',), progress=False)
    (result,) = replay([bag], options)
    return plan.labels, result.folder / 'bag'


def test_each_fault_is_flagged_while_it_happens(patrol):
    labels, bag = patrol
    stamps, values = [], []
    with BagReader(bag) as reader:
        for _, _, msg in reader.messages({'/fusion/reliability'}):
            stamps.append(header_ns(msg))
            values.append({s.hardware_id: s.values for s in from_diagnostic_array(msg)})
    flags = [raised_flags(v) for v in values]
    for kind, flag in FLAG_OF.items():
        truth = [
            (f['t0_ns'], f['t1_ns'])
            for f in labels['faults']
            if f['kind'] == kind and f.get('saturated', True)
        ]
        assert truth, f'the scenario has no {kind}'
        found = score(truth, runs(stamps, [f[flag] for f in flags], merge_gap_s=0.5))
        assert found.recall == 1.0, kind
    lifted = score(
        [(f['t0_ns'], f['t1_ns']) for f in labels['faults'] if f['kind'] == 'kidnap'],
        runs(stamps, [f['lifted'] for f in flags]),
    )
    assert lifted.precision == 1.0 and lifted.median_latency_s < 0.5


def test_a_put_down_asks_for_relocalization_and_the_output_stays_finite(patrol):
    labels, bag = patrol
    (kidnap,) = [f for f in labels['faults'] if f['kind'] == 'kidnap']
    with BagReader(bag) as reader:
        requests = [stamp_to_ns(m.stamp) for _, _, m in reader.messages({'/fusion/relocalize'})]
        poses = [from_odometry(m) for _, _, m in reader.messages({'/odometry/filtered'})]
    assert len(requests) == 1 and kidnap['t0_ns'] < requests[0] < kidnap['t1_ns'] + 3e9
    assert all(np.all(np.isfinite(p.T)) and np.all(np.isfinite(p.pose_covariance)) for p in poses)
    during = [p.T[:3, 3] for p in poses if kidnap['t0_ns'] + 5e8 < p.t_ns < kidnap['t1_ns']]
    assert np.ptp(np.array(during), axis=0).max() < 0.05  # frozen while carried
