"""slam.tum as a TF user sees it: odom -> base composed with the latest map -> odom, and none
while map -> odom has gone stale (the backend stops it while it is relocalizing)."""

from __future__ import annotations

import numpy as np

from astro_slam.msgs.factory import default_factory
from astro_slam.msgs.poses import to_tf_message
from astro_slam.tools.recorder import TrajectoryRecorder
from astro_slam.transforms import make_transform
from astro_slam.types import StampedTransform

S = 1_000_000_000


def test_slam_poses_stop_while_map_to_odom_is_stale():
    factory = default_factory()
    recorder = TrajectoryRecorder()

    def tf(t_ns: int, parent: str, child: str, x: float) -> None:
        edge = StampedTransform(t_ns, parent, child, make_transform(t=[x, 0, 0]))
        recorder('/tf', to_tf_message(factory, [edge]), t_ns, 'node')

    for k in range(100):  # 10 s of odometry at 10 Hz
        t = k * S // 10
        tf(t, 'odom', 'base_link', 0.1 * k)
        if k < 30 or k >= 70:  # map -> odom silent from 3 s to 7 s
            tf(t, 'map', 'odom', 1.0 if k < 30 else 2.0)
    slam = recorder.slam()
    stamps = np.array(slam.stamps) / S
    # Up to 1 s after the last map -> odom, then nothing until it comes back.
    assert stamps.max() == 9.9 and not np.any((stamps > 3.91) & (stamps < 6.99))
    assert np.isclose(slam.poses[0][0, 3], 1.0) and np.isclose(slam.poses[-1][0, 3], 2.0 + 9.9)
