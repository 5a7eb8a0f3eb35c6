"""Backend node: keyframes and fused odometry in; map -> odom, /slam/pose and /slam/path out.

Subscribes: vo/keyframe, odometry/filtered, camera/left/camera_info (parameter
camera_info_topic), fusion/relocalize, fusion/reliability; /tf_static for T_base_camera.
Publishes: /tf (map -> odom, while localized), slam/pose, slam/path, slam/loop_closures
(accepted green, rejected red), slam/status. Service: slam/relocalize (std_srvs/Trigger).
Parameters: astro_slam.backend.config.BackendConfig (config/astro_slam.yaml); map_path: the
saved map to relocalize in at the start (read only; the map server writes it).
"""

from __future__ import annotations

import sys

from astro_slam.backend.component import Backend
from astro_slam.ros.binding import run_component


def main(args: list[str] | None = None) -> int:
    return run_component(Backend, args)


if __name__ == '__main__':
    sys.exit(main())
