"""The rclpy binding on a real ROS 2 graph (runs where ROS 2 is sourced; skipped elsewhere)."""

from __future__ import annotations

import time

import pytest

rclpy = pytest.importorskip(
    'rclpy', reason='needs ROS 2 (rclpy); runs in .github/workflows/ros.yml'
)

from nav_msgs.msg import Odometry  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from astro_fusion.dead_reckoning import DeadReckoning  # noqa: E402
from astro_slam.framework.config import param_specs  # noqa: E402
from astro_slam.ros.binding import ComponentNode  # noqa: E402
from astro_slam.ros.qos import profile  # noqa: E402


@pytest.fixture
def context():
    rclpy.init()
    yield
    rclpy.try_shutdown()


def test_node_declares_parameters_with_descriptions(context):
    node = ComponentNode(DeadReckoning)
    try:
        for spec in param_specs(DeadReckoning.Config):
            assert node.get_parameter(spec.name).value == spec.default
            (descriptor,) = node.describe_parameters([spec.name])
            assert spec.doc in descriptor.description
    finally:
        node.destroy_node()


def test_node_relays_wheel_odometry_and_broadcasts_tf(context):
    node = ComponentNode(DeadReckoning)
    probe = rclpy.create_node('probe')
    received = []
    probe.create_subscription(Odometry, 'odometry/filtered', received.append, profile('state'))
    wheel = probe.create_publisher(Odometry, 'wheel/odometry', profile('sensor'))
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    executor.add_node(probe)
    try:
        deadline = time.monotonic() + 10.0
        stamp = 1
        while not received and time.monotonic() < deadline:
            msg = Odometry()
            msg.header.stamp.nanosec = stamp
            msg.pose.pose.orientation.w = 1.0
            wheel.publish(msg)
            stamp += 1
            executor.spin_once(timeout_sec=0.1)
        assert received and received[0].header.frame_id == 'odom'
        assert node.io.tf_buffer.can_transform('odom', 'base_link', rclpy.time.Time())
    finally:
        executor.shutdown()
        node.destroy_node()
        probe.destroy_node()
