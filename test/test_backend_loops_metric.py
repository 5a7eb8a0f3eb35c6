"""benchmarks/backend_loops.py's kidnap metric: when, after the put-down, the robot first sees a
view the map can hold, so that a relocalization's time can be split into the wait for such a
view and the search once it is there."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / 'benchmarks'))
from backend_loops import first_mapped_view_s

S = 10**9


def _poses(xy: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    T = np.tile(np.eye(4), (len(xy), 1, 1))
    T[:, :2, 3] = xy
    T[:, 0, 0], T[:, 0, 1] = np.cos(yaw), -np.sin(yaw)
    T[:, 1, 0], T[:, 1, 1] = np.sin(yaw), np.cos(yaw)
    return T


def test_the_first_mapped_view_is_where_the_robot_stood_before_the_lift_facing_its_way():
    t = np.arange(0, 40 * S, S // 10)
    s = t / S
    # Drives along x facing +x for 10 s (x = 0..5 m), is carried for 5 s, put down at x = 20 m
    # and drives back towards the start, still facing +x until 30 s, then turned around.
    x = np.where(s < 10, 0.5 * s, np.where(s < 15, 20.0, 20.0 - 0.8 * (s - 15)))
    yaw = np.where(s < 30, 0.0, np.pi)
    gt_T = _poses(np.column_stack([x, np.zeros_like(x)]), yaw)
    kidnap = {'kind': 'kidnap', 't0_ns': 10 * S, 't1_ns': 15 * S}
    # Within 1.5 m of x = 5 from x = 6.5, reached 16.9 s after the put-down at 0.8 m/s; but
    # it faces the other way from 30 s on, 15 s after the put-down: never a mapped view.
    assert first_mapped_view_s(t, gt_T, kidnap) is None
    gt_T = _poses(np.column_stack([x, np.zeros_like(x)]), np.zeros_like(x))
    seen = first_mapped_view_s(t, gt_T, kidnap)
    assert seen is not None and abs(seen - 16.875) < 0.15


def test_a_put_down_in_view_of_the_map_is_seen_at_once_and_no_lift_means_no_answer():
    t = np.arange(0, 20 * S, S // 10)
    gt_T = _poses(np.zeros((len(t), 2)), np.zeros(len(t)))
    assert first_mapped_view_s(t, gt_T, {'t0_ns': 5 * S, 't1_ns': 8 * S}) == 0.0
    assert first_mapped_view_s(t, gt_T, {'t0_ns': 0, 't1_ns': 8 * S}) is None
