"""benchmarks/fusion_faults.py's per-fault error: a fault that overlaps a carry is scored on
its grounded pieces only, since no odometry can follow a robot that is carried."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / 'benchmarks'))
from fusion_faults import fault_error, grounded_pieces

S = 10**9


def _poses(xy: np.ndarray) -> np.ndarray:
    T = np.tile(np.eye(4), (len(xy), 1, 1))
    T[:, :2, 3] = xy
    return T


def test_a_low_power_stretch_that_holds_a_carry_is_scored_without_it():
    labels = {
        'faults': [
            {'kind': 'kidnap', 't0_ns': 10 * S, 't1_ns': 20 * S},
            {'kind': 'low_power', 't0_ns': 15 * S, 't1_ns': 30 * S},
        ]
    }
    assert grounded_pieces(15 * S, 31 * S, labels) == [(21 * S, 31 * S)]
    t = np.arange(0, 40 * S, S // 10)
    x = np.where(t < 10 * S, t / S, np.where(t < 20 * S, 10.0, t / S - 10.0))
    carried = np.where(t < 10 * S, 0.0, np.clip((t - 10 * S) / (10 * S), 0.0, 1.0) * 5.0)
    truth = (t, _poses(np.column_stack([x, carried])))  # carried 5 m sideways
    odometry = (t, _poses(np.column_stack([x, np.zeros_like(x)])))  # frozen while carried
    errors = fault_error(odometry, truth, labels)
    assert errors['low_power_error_cm'] < 1.0  # the odometry is right wherever it can be
    assert abs(errors['low_power_path_m'] - 10.0) < 0.2
