"""Approximate-time matching with message_filters' semantics."""

from __future__ import annotations

import pytest

from astro_slam.framework.sync import ApproximateTimeSynchronizer

MS = 1_000_000


def _msg(factory, t_ns: int):
    return factory.make('sensor_msgs/msg/Imu', header=factory.header(t_ns, 'x'))


def test_matches_pairs_within_slop_whatever_the_arrival_order(factory):
    pairs = []
    sync = ApproximateTimeSynchronizer(
        2, 10, 0.005, lambda a, b: pairs.append((a.header.stamp.nanosec, b.header.stamp.nanosec))
    )
    for i in range(5):
        left, right = i * 100 * MS, i * 100 * MS + 3 * MS  # right camera 3 ms late
        if i % 2:
            sync.add(1, _msg(factory, right))
            sync.add(0, _msg(factory, left))
        else:
            sync.add(0, _msg(factory, left))
            sync.add(1, _msg(factory, right))
    assert pairs == [(i * 100 * MS, i * 100 * MS + 3 * MS) for i in range(5)]


def test_no_match_beyond_slop(factory):
    pairs = []
    sync = ApproximateTimeSynchronizer(2, 10, 0.005, lambda *m: pairs.append(m))
    sync.add(0, _msg(factory, 0))
    sync.add(1, _msg(factory, 6 * MS))
    assert pairs == []


def test_prefers_the_nearest_candidate(factory):
    pairs = []
    sync = ApproximateTimeSynchronizer(
        2, 10, 0.02, lambda a, b: pairs.append(b.header.stamp.nanosec)
    )
    sync.add(1, _msg(factory, 10 * MS))
    sync.add(1, _msg(factory, 2 * MS))
    sync.add(0, _msg(factory, 0))
    assert pairs == [2 * MS]


def test_full_queue_drops_the_oldest(factory):
    pairs = []
    sync = ApproximateTimeSynchronizer(2, 2, 0.005, lambda *m: pairs.append(m))
    for i in range(3):
        sync.add(0, _msg(factory, i * 100 * MS))
    assert sync.dropped == 1
    sync.add(1, _msg(factory, 0))  # its partner was evicted
    assert pairs == []
    sync.add(1, _msg(factory, 200 * MS))
    assert len(pairs) == 1


def test_rejects_meaningless_settings():
    with pytest.raises(ValueError):
        ApproximateTimeSynchronizer(1, 10, 0.01, print)
    with pytest.raises(ValueError):
        ApproximateTimeSynchronizer(2, 10, 0.0, print)
