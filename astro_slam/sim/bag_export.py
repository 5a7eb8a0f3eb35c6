"""Writes simulated runs as ROS 2 bags with the topic names and types of docs/ARCHITECTURE.md."""

from __future__ import annotations

from pathlib import Path

from astro_slam.framework.component import LATCHED, SENSOR
from astro_slam.msgs.factory import default_factory
from astro_slam.msgs.imu import to_imu
from astro_slam.msgs.poses import to_odometry, to_tf_message
from astro_slam.sim.kinematic import KinematicRun
from astro_slam.tools.bag_io import BagWriter
from astro_slam.types import OdometryEstimate

WHEEL_TOPIC = '/wheel/odometry'
IMU_TOPIC = '/imu/data'
GROUND_TRUTH_TOPIC = '/ground_truth/odometry'


def write_kinematic_bag(run: KinematicRun, path: str | Path, storage: str = 'mcap') -> Path:
    """One bag: /tf_static, /wheel/odometry, /imu/data and /ground_truth/odometry (map frame)."""
    factory = default_factory()
    path = Path(path)
    with BagWriter(path, factory, storage) as writer:
        t0 = int(run.stamps_ns[0])
        writer.write('/tf_static', to_tf_message(factory, run.static_tf), t0, LATCHED)
        for t_ns, truth, wheel, imu in zip(
            run.stamps_ns, run.ground_truth, run.wheel, run.imu, strict=True
        ):
            t_ns = int(t_ns)
            writer.write(WHEEL_TOPIC, to_odometry(factory, wheel), t_ns, SENSOR)
            writer.write(IMU_TOPIC, to_imu(factory, imu), t_ns, SENSOR)
            gt = OdometryEstimate(t_ns, 'map', 'base_link', truth)
            writer.write(GROUND_TRUTH_TOPIC, to_odometry(factory, gt), t_ns, 'state')
    return path
