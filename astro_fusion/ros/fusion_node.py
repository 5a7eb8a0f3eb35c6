"""Fusion node: IMU, wheel odometry and VO in; /odometry/filtered and odom -> base_link out.

Subscribes: imu/data, wheel/odometry, vo/odometry, vo/status, robot/wheel_drop and
robot/low_power (optional hints); /tf_static for T_base_imu. Publishes: odometry/filtered,
/tf (odom -> base_link), fusion/reliability (per sensor: weight, state, reason), and
fusion/relocalize (std_msgs/Header: the robot was put down after a lift at its stamp).
Parameters: astro_fusion.config.FusionConfig (config/astro_slam.yaml).
"""

from __future__ import annotations

import sys

from astro_fusion.fusion import Fusion
from astro_slam.ros.binding import run_component


def main(args: list[str] | None = None) -> int:
    return run_component(Fusion, args)


if __name__ == '__main__':
    sys.exit(main())
