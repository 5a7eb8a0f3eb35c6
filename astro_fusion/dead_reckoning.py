"""Wheel-only dead reckoning: /wheel/odometry republished as /odometry/filtered and odom TF.

The baseline every fusion result is compared against, and the smallest real component of the
stack: it shows the whole path from a bag to an output bag without any estimation.
"""

from __future__ import annotations

from dataclasses import dataclass

from astro_fusion.output import OUTPUT, TF, publish_odometry
from astro_slam.framework.component import SENSOR, Component, Interface, Subscription, Topic
from astro_slam.framework.config import param
from astro_slam.msgs.poses import from_odometry


@dataclass(frozen=True)
class DeadReckoningConfig:
    odom_frame: str = param('odom', 'Frame of the output odometry and TF parent (REP-105).')
    base_frame: str = param('base_link', 'Robot body frame: the output child frame.')
    publish_tf: bool = param(True, 'Broadcast odom -> base_link on /tf.')


class DeadReckoning(Component):
    """Republishes wheel odometry in the odom frame; see the module docstring."""

    node_name = 'dead_reckoning'
    Config = DeadReckoningConfig

    WHEEL = Topic('wheel/odometry', 'nav_msgs/msg/Odometry', SENSOR)

    def interface(self) -> Interface:
        return Interface(
            subscriptions=(Subscription(self.WHEEL, 'on_wheel_odometry'),),
            publications=(OUTPUT, TF) if self.config.publish_tf else (OUTPUT,),
        )

    def on_wheel_odometry(self, msg: object) -> None:
        odom = from_odometry(msg)
        odom.frame_id, odom.child_frame_id = self.config.odom_frame, self.config.base_frame
        publish_odometry(self.io, odom, self.config.publish_tf)
