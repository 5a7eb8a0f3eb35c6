"""The fusion component: IMU, wheel odometry and VO in; /odometry/filtered, odom -> base_link,
/fusion/reliability and /fusion/relocalize out. The estimation is in core.py; this file only
converts messages and paces the outputs.

/fusion/relocalize is a std_msgs/Header whose stamp is when the robot was put down after a
lift: the backend should find it again from there on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from astro_fusion.config import FusionConfig
from astro_fusion.core import FusionCore
from astro_fusion.output import OUTPUT, TF, publish_odometry
from astro_slam.framework.component import SENSOR, STATE, Component, Interface, Subscription, Topic
from astro_slam.msgs.diagnostics import from_diagnostic_array, to_diagnostic_array
from astro_slam.msgs.imu import from_imu
from astro_slam.msgs.poses import from_odometry
from astro_slam.msgs.time import header_ns


class Fusion(Component):
    """Hosts FusionCore; see the module docstring."""

    node_name = 'fusion'
    Config = FusionConfig

    IMU = Topic('imu/data', 'sensor_msgs/msg/Imu', SENSOR)
    WHEEL = Topic('wheel/odometry', 'nav_msgs/msg/Odometry', SENSOR)
    VO = Topic('vo/odometry', 'nav_msgs/msg/Odometry', STATE)
    VO_STATUS = Topic('vo/status', 'diagnostic_msgs/msg/DiagnosticArray', STATE)
    WHEEL_DROP = Topic('robot/wheel_drop', 'std_msgs/msg/Bool', STATE)
    LOW_POWER = Topic('robot/low_power', 'std_msgs/msg/Bool', STATE)
    RELIABILITY = Topic('fusion/reliability', 'diagnostic_msgs/msg/DiagnosticArray', STATE)
    RELOCALIZE = Topic('fusion/relocalize', 'std_msgs/msg/Header', STATE)

    def __init__(self, config: FusionConfig, io: Any) -> None:
        super().__init__(config, io)
        self.core = FusionCore(config)
        self.next_output_ns = 0
        self.next_reliability_ns = 0
        self.last_verdicts: tuple = ()
        self.counts = {'published': 0, 'no_imu_extrinsics': 0, 'relocalize_requests': 0}

    def interface(self) -> Interface:
        subs = [
            Subscription(self.IMU, 'on_imu'),
            Subscription(self.WHEEL, 'on_wheel'),
        ]
        if self.config.use_base_hints:
            subs += [
                Subscription(self.WHEEL_DROP, 'on_wheel_drop', False),
                Subscription(self.LOW_POWER, 'on_low_power', False),
            ]
        if self.config.use_vo:
            subs += [Subscription(self.VO, 'on_vo'), Subscription(self.VO_STATUS, 'on_vo_status')]
        pubs = [OUTPUT, self.RELIABILITY, self.RELOCALIZE]
        if self.config.publish_tf:
            pubs.append(TF)
        return Interface(subscriptions=tuple(subs), publications=tuple(pubs))

    # -- inputs ----------------------------------------------------------------------------

    def on_imu(self, msg: Any) -> None:
        sample = from_imu(msg)
        frame = sample.frame_id or self.config.base_frame
        T = self.io.lookup_transform(self.config.base_frame, frame, 0)
        if T is None:
            self.counts['no_imu_extrinsics'] += 1
            return
        self.core.on_imu(sample, T[:3, :3])
        self._outputs(sample.t_ns)

    def on_wheel(self, msg: Any) -> None:
        self.core.on_wheel(from_odometry(msg))

    def on_vo(self, msg: Any) -> None:
        self.core.on_vo(from_odometry(msg))

    def on_vo_status(self, msg: Any) -> None:
        for status in from_diagnostic_array(msg):
            if status.name == 'visual_odometry':
                self.core.on_vo_status(
                    header_ns(msg),
                    status.values.get('state', ''),
                    status.values.get('reason', ''),
                )

    def on_wheel_drop(self, msg: Any) -> None:
        self.core.lifted_hint = bool(msg.data)

    def on_low_power(self, msg: Any) -> None:
        self.core.low_power_hint = bool(msg.data)

    # -- outputs ---------------------------------------------------------------------------

    def _outputs(self, t_ns: int) -> None:
        c, factory = self.config, self.io.factory
        for stamp in self.core.relocalize:
            header = factory.header(stamp, c.odom_frame)
            self.io.publish(self.RELOCALIZE.name, header)
            self.counts['relocalize_requests'] += 1
        self.core.relocalize.clear()
        if t_ns >= self.next_output_ns:
            self.next_output_ns = t_ns + int(1e9 / c.publish_rate_hz)
            odom = self.core.estimate()
            if odom is not None and np.all(np.isfinite(odom.T)):
                publish_odometry(self.io, odom, c.publish_tf)
                self.counts['published'] += 1
        self.core.check_silence(t_ns)
        verdicts = self.core.verdicts()
        # At the rate, and at once when a verdict changes: a fault is news within one sample.
        if t_ns >= self.next_reliability_ns or verdicts != self.last_verdicts:
            self.next_reliability_ns = t_ns + int(1e9 / c.reliability_rate_hz)
            self.last_verdicts = verdicts
            statuses = self.core.statuses()
            self.io.publish(self.RELIABILITY.name, to_diagnostic_array(factory, statuses, t_ns))

    def diagnostics(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.counts)
        for name, health in self.core.health.items():
            out[name] = {'state': health.state, 'reason': health.reason, **health.counts}
        return out
