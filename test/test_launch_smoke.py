"""Smoke test on ROS 2 (launch_testing; runs in .github/workflows/ros.yml, skips without ROS):
replay.launch.py plays a tiny simulated bag into the four nodes, and their main outputs appear
on the ROS graph: /odometry/filtered, /slam/pose, /map and the map -> odom transform."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
import unittest
from pathlib import Path

import pytest

pytest.importorskip('launch_testing')
pytest.importorskip('moderngl')  # the simulator renders the bag

import launch_testing.actions
import rclpy
import tf2_ros
from ament_index_python.packages import get_package_share_directory
from geometry_msgs.msg import PoseWithCovarianceStamped
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

import launch
from astro_slam.sim.scenarios import SCENARIOS, SessionSpec
from astro_slam.sim.simulate import simulate

TIMEOUT_S = 120.0


def _tiny_bag() -> Path:
    out = Path(tempfile.mkdtemp(prefix='astro_slam_smoke_'))
    scenario = dataclasses.replace(
        SCENARIOS['tiny'], sessions=(SessionSpec('walk', 8.0),), camera_hz=15.0
    )
    simulate(scenario, 0, 3, out, progress=False)
    return out / 'tiny' / 'walk'


@pytest.mark.launch_test
def generate_test_description():
    share = get_package_share_directory('astro_slam')
    replay = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'replay.launch.py')),
        launch_arguments={'bag': str(_tiny_bag()), 'rviz': 'false'}.items(),
    )
    return launch.LaunchDescription([replay, launch_testing.actions.ReadyToTest()])


class TestOutputsAppear(unittest.TestCase):
    def test_fused_odometry_pose_map_and_map_to_odom(self):
        rclpy.init()
        node = rclpy.create_node('astro_slam_smoke_probe')
        seen: set[str] = set()
        latched = QoSProfile(
            depth=1,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
            reliability=ReliabilityPolicy.RELIABLE,
        )
        for msgtype, topic, qos in (
            (Odometry, '/odometry/filtered', 10),
            (PoseWithCovarianceStamped, '/slam/pose', 10),
            (OccupancyGrid, '/map', latched),
        ):
            node.create_subscription(msgtype, topic, lambda _m, t=topic: seen.add(t), qos)
        buffer = tf2_ros.Buffer()
        listener = tf2_ros.TransformListener(buffer, node)  # noqa: F841 - must stay alive
        try:
            deadline = time.monotonic() + TIMEOUT_S
            has_tf = False
            while time.monotonic() < deadline:
                rclpy.spin_once(node, timeout_sec=0.2)
                has_tf = has_tf or buffer.can_transform('map', 'odom', rclpy.time.Time())
                if has_tf and len(seen) == 3:
                    break
            self.assertEqual(seen, {'/odometry/filtered', '/slam/pose', '/map'})
            self.assertTrue(has_tf, 'no map -> odom on /tf')
        finally:
            node.destroy_node()
            rclpy.shutdown()
