"""Wheel-only dead reckoning: /wheel/odometry republished as /odometry/filtered and odom TF.

The baseline every fusion result is compared against, and the smallest real component of the
stack: it shows the whole path from a bag to an output bag without any estimation.
"""

from __future__ import annotations

from dataclasses import dataclass

from astro_slam.framework.component import SENSOR, STATE, Component, Interface, Subscription, Topic
from astro_slam.framework.config import param
from astro_slam.msgs.poses import from_odometry, to_odometry, to_tf_message
from astro_slam.types import StampedTransform


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
    OUTPUT = Topic('odometry/filtered', 'nav_msgs/msg/Odometry', STATE)
    TF = Topic('/tf', 'tf2_msgs/msg/TFMessage', STATE)

    def interface(self) -> Interface:
        return Interface(
            subscriptions=(Subscription(self.WHEEL, 'on_wheel_odometry'),),
            publications=(self.OUTPUT, self.TF) if self.config.publish_tf else (self.OUTPUT,),
        )

    def on_wheel_odometry(self, msg: object) -> None:
        odom = from_odometry(msg)
        odom.frame_id, odom.child_frame_id = self.config.odom_frame, self.config.base_frame
        factory = self.io.factory
        self.io.publish(self.OUTPUT.name, to_odometry(factory, odom))
        if self.config.publish_tf:
            edge = StampedTransform(odom.t_ns, odom.frame_id, odom.child_frame_id, odom.T)
            self.io.publish(self.TF.name, to_tf_message(factory, [edge]))
