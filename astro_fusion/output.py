"""What every odometry source of this package publishes: /odometry/filtered and its TF edge."""

from __future__ import annotations

from typing import Any

from astro_slam.framework.component import STATE, Topic
from astro_slam.msgs.poses import to_odometry, to_tf_message
from astro_slam.types import OdometryEstimate, StampedTransform

OUTPUT = Topic('odometry/filtered', 'nav_msgs/msg/Odometry', STATE)
TF = Topic('/tf', 'tf2_msgs/msg/TFMessage', STATE)


def publish_odometry(io: Any, odom: OdometryEstimate, with_tf: bool) -> None:
    """The estimate on /odometry/filtered and, with_tf, as the odom -> base_link edge."""
    io.publish(OUTPUT.name, to_odometry(io.factory, odom))
    if with_tf:
        edge = StampedTransform(odom.t_ns, odom.frame_id, odom.child_frame_id, odom.T)
        io.publish(TF.name, to_tf_message(io.factory, [edge]))
