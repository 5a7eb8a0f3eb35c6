"""Detection scoring: flags over time against labelled intervals."""

from __future__ import annotations

import pytest

from astro_slam.eval.detection import runs, score

S = 10**9


def test_runs_are_the_raised_stretches_and_short_drops_merge():
    stamps = [0, 1 * S, 2 * S, 3 * S, 4 * S, 5 * S]
    flags = [False, True, True, False, True, True]
    assert runs(stamps, flags) == [(1 * S, 3 * S), (4 * S, 5 * S)]
    assert runs(stamps, flags, merge_gap_s=1.5) == [(1 * S, 5 * S)]


def test_precision_recall_and_latency():
    truths = [(10 * S, 12 * S), (20 * S, 21 * S), (30 * S, 31 * S)]
    detections = [
        (10 * S + S // 5, 11 * S),  # found, 0.2 s late
        (21 * S + S // 2, 22 * S),  # after the end, within the 1 s grace: found, 1.5 s late
        (40 * S, 41 * S),  # nothing there: false
        (50 * S, 51 * S),  # another labelled event explains it: not counted
    ]
    result = score(truths, detections, explained=[(50 * S, 50 * S + 1)])
    assert result.recall == pytest.approx(2 / 3)
    assert result.precision == pytest.approx(2 / 3)
    assert result.latencies_s == pytest.approx([0.2, 1.5])
    assert score([], []).recall is None and score([], []).precision is None
