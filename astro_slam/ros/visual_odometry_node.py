"""Visual odometry node: stereo or RGB-D images in; /vo/odometry, /vo/keyframe, /vo/status out.

Subscribes: camera/{left,right}/image_raw[/compressed] + camera_info (rig stereo), or
camera/color/image_raw[/compressed], camera/depth/image_rect_raw[/compressedDepth] and
camera/color/camera_info (rig rgbd); the motion prior `prior_odometry_topic`; /tf_static for
T_base_camera. Parameters: astro_slam.vo.config.VisualOdometryConfig (config/astro_slam.yaml).
Frames: /vo/odometry is base_frame in odom_frame (the base at the first image).
"""

from __future__ import annotations

import sys

from astro_slam.ros.binding import run_component
from astro_slam.vo.component import VisualOdometry


def main(args: list[str] | None = None) -> int:
    return run_component(VisualOdometry, args)


if __name__ == '__main__':
    sys.exit(main())
