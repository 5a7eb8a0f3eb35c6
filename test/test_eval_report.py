"""`astro-slam eval` on trajectories with known errors, and against evo as an independent
oracle: ATE and RPE must agree to 1e-6 on the same files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from astro_slam.eval.report import Thresholds, evaluate_run
from astro_slam.msgs.diagnostics import to_diagnostic_array
from astro_slam.tools.bag_io import BagWriter
from astro_slam.tools.cli import main
from astro_slam.tools.tum import write_tum
from astro_slam.transforms import make_transform, small_motion
from astro_slam.types import DiagnosticStatus

S = 1_000_000_000


def _truth(seconds: float = 60.0, hz: float = 100.0):
    t = np.arange(int(seconds * hz)) * int(S / hz) + 10**18
    poses = []
    for k in range(len(t)):
        a = 2 * np.pi * k / len(t)
        T = make_transform(t=[2.0 * np.cos(a), 1.5 * np.sin(a), 0.0])
        T[:3, :3] = small_motion(np.zeros(3), np.array([0.0, 0.0, a + np.pi / 2]))[:3, :3]
        poses.append(T)
    return t, np.array(poses)


def _result(tmp_path, seed: int = 0):
    """A replay-like folder: truth at 100 Hz; an estimate at 20 Hz (every 5th truth stamp)
    that drifts in heading and is noisy, in a frame rotated and shifted from the truth's."""
    rng = np.random.default_rng(seed)
    gt_t, gt_T = _truth()
    est_t, est_T = gt_t[::5], gt_T[::5].copy()
    offset = make_transform(t=[3.0, -1.0, 0.2])
    offset[:3, :3] = small_motion(np.zeros(3), np.array([0.0, 0.0, 0.7]))[:3, :3]
    drift = np.eye(4)
    for i in range(len(est_T)):
        drift = drift @ small_motion(rng.normal(0, 0.002, 3), np.array([0.0, 0.0, 2e-4]))
        est_T[i] = offset @ drift @ est_T[i]
    folder = tmp_path / 'session'
    folder.mkdir()
    write_tum(folder / 'ground_truth.tum', gt_t, gt_T)
    write_tum(folder / 'slam.tum', est_t, est_T)
    run = {
        'bag': str(tmp_path / 'no_bag'),
        'realtime_factor': 2.5,
        'peak_rss_mb': 300.0,
        'nodes': {
            'backend': {
                'cpu_s': 1.5,
                'diagnostics': {
                    'relocalizations': [
                        {
                            'requested_ns': int(est_t[100]),
                            'found_ns': int(est_t[130]),
                            'keyframes': 3,
                        }
                    ]
                },
            }
        },
    }
    (folder / 'run.json').write_text(json.dumps(run))
    return folder


def test_ate_and_rpe_agree_with_evo(tmp_path):
    pytest.importorskip('evo')
    from evo.core import metrics, sync
    from evo.core.metrics import PoseRelation, Unit
    from evo.tools import file_interface

    folder = _result(tmp_path)
    report = evaluate_run(folder)
    ref = file_interface.read_tum_trajectory_file(str(folder / 'ground_truth.tum'))
    est = file_interface.read_tum_trajectory_file(str(folder / 'slam.tum'))
    ref, est = sync.associate_trajectories(ref, est, max_diff=0.001)
    rpe = metrics.RPE(
        PoseRelation.translation_part, 1.0, Unit.meters, all_pairs=False, pairs_from_reference=True
    )
    rpe.process_data((ref, est))
    rpe_10s = metrics.RPE(PoseRelation.translation_part, 200, Unit.frames, all_pairs=False)
    rpe_10s.process_data((ref, est))
    est.align(ref, correct_scale=False)
    ape = metrics.APE(PoseRelation.translation_part)
    ape.process_data((ref, est))
    assert report['ate_rmse_m'] == pytest.approx(
        ape.get_statistic(metrics.StatisticsType.rmse), abs=1e-6
    )
    assert report['rpe_m_per_m'] == pytest.approx(
        rpe.get_statistic(metrics.StatisticsType.mean), abs=1e-6
    )
    assert report['rpe_m_per_10s'] == pytest.approx(
        rpe_10s.get_statistic(metrics.StatisticsType.mean), abs=1e-6
    )
    assert report['ate_rmse_m'] > 0.01  # the drift is there to be measured


def test_report_keys_correct_rate_and_relocalization(tmp_path):
    folder = _result(tmp_path)
    report = evaluate_run(folder)
    for key in (
        'ate_rmse_m',
        'rpe_trans_pct',
        'correct_rate',
        'reloc_time_s',
        'reloc_score',
        'loop_precision',
        'loop_recall',
        'realtime_factor',
        'peak_rss_mb',
        'map_bytes',
        'fault_precision',
        'fault_recall',
    ):
        assert key in report
    assert 0.0 < report['correct_rate'] <= 1.0
    assert report['reloc_time_s'] == pytest.approx(1.5)  # 30 poses at 20 Hz
    assert report['relocalizations'][0]['first_pose_right'] is True
    assert report['reloc_score'] == pytest.approx(np.exp(-1.5 / 60))
    assert report['loop_precision'] is None  # no labels beside the bag
    assert report['fault_recall'] is None and report['faults'] is None
    assert (report['realtime_factor'], report['peak_rss_mb']) == (2.5, 300.0)
    # A threshold nothing can meet: nothing is correct (the rate is not a constant).
    strict = evaluate_run(folder, Thresholds(correct_m=1e-9))
    assert strict['correct_rate'] == 0.0


def test_relocalizations_are_judged_in_the_map_frame_when_given(tmp_path):
    """A session relocalizing in a saved map is judged where that map put the map frame: the
    same first pose is right there and wrong in a frame half a metre off."""
    from astro_slam.eval.report import map_alignment
    from astro_slam.transforms import inverse

    folder = _result(tmp_path)
    offset = make_transform(t=[3.0, -1.0, 0.2])  # as _result built the estimate's frame
    offset[:3, :3] = small_motion(np.zeros(3), np.array([0.0, 0.0, 0.7]))[:3, :3]
    right = evaluate_run(folder, map_frame=inverse(offset))
    assert right['relocalizations'][0]['first_pose_right'] is True
    shifted = make_transform(t=[0.5, 0.0, 0.0]) @ inverse(offset)
    wrong = evaluate_run(folder, map_frame=shifted)
    assert wrong['relocalizations'][0]['first_pose_right'] is False
    assert wrong['reloc_score'] == 0.0
    # Without a map frame the session is aligned on its own truth: map_alignment's frame.
    own = evaluate_run(folder, map_frame=map_alignment(folder))
    assert own['relocalizations'] == evaluate_run(folder)['relocalizations']
    assert main(['eval', '--map-session', str(folder), '--json', str(folder)]) == 0
    assert main(['eval', '--map-session', str(tmp_path / 'missing'), str(folder)]) == 1


def test_cli_eval_prints_a_table_and_json(tmp_path, capsys):
    folder = _result(tmp_path)
    assert main(['eval', str(folder)]) == 0
    assert 'slam' in capsys.readouterr().out
    assert main(['eval', '--json', str(folder)]) == 0
    assert json.loads(capsys.readouterr().out)['ate_rmse_m'] > 0
    assert main(['eval', str(tmp_path / 'missing')]) == 1


def _reliability(slip: bool, lifted: bool) -> list[DiagnosticStatus]:
    def status(hw: str, **values: str) -> DiagnosticStatus:
        return DiagnosticStatus(f'fusion: {hw}', 0, 'ok', hw, values)

    return [
        status('imu', reason=''),
        status('wheel', reason='slip: wheels against gyro' if slip else ''),
        status('vo', reason=''),
        status('robot', lifted=str(lifted).lower(), low_power='false'),
    ]


def test_fault_detection_is_scored_against_the_labels(tmp_path, factory):
    """Flags from the output bag's /fusion/reliability against labelled faults: a slip found
    0.3 s late and one raised where none was, a kidnap found, a clipping bump missed."""
    folder = _result(tmp_path)
    t0 = int(_truth()[0][0])
    labels = {
        'faults': [
            {'kind': 'slip', 't0_ns': t0 + 10 * S, 't1_ns': t0 + 12 * S},
            {'kind': 'kidnap', 't0_ns': t0 + 20 * S, 't1_ns': t0 + 25 * S},
            {
                'kind': 'bump',
                't0_ns': t0 + 30 * S,
                't1_ns': t0 + 30 * S + S // 20,
                'saturated': True,
            },
        ]
    }
    (tmp_path / 'no_bag.labels.json').write_text(json.dumps(labels))
    with BagWriter(folder / 'bag', factory) as writer:
        for k in range(500):  # 50 s at 10 Hz
            t = k / 10
            slip = 10.3 <= t < 11.5 or 40.0 <= t < 41.0
            lifted = 20.1 <= t < 25.0
            msg = to_diagnostic_array(factory, _reliability(slip, lifted), t0 + k * S // 10)
            writer.write('/fusion/reliability', msg, t0 + k * S // 10)
    report = evaluate_run(folder)
    slip, kidnap, bump = (report['faults'][k] for k in ('slip', 'kidnap', 'bump'))
    assert (slip['truths'], slip['detections'], slip['precision'], slip['recall']) == (
        1,
        2,
        0.5,
        1.0,
    )
    assert slip['median_latency_s'] == pytest.approx(0.3)
    assert (kidnap['precision'], kidnap['recall']) == (1.0, 1.0)
    assert (bump['recall'], bump['precision']) == (0.0, None)
    assert report['fault_precision'] == pytest.approx(2 / 3)
    assert report['fault_recall'] == pytest.approx(2 / 3)
    assert report['fault_latency_s'] == pytest.approx(0.2)
