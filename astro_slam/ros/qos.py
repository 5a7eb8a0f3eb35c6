"""The three QoS profiles of docs/ARCHITECTURE.md, defined once for every node."""

from __future__ import annotations

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

from astro_slam.framework.component import LATCHED, SENSOR, STATE

PROFILES: dict[str, QoSProfile] = {
    # Drivers publish best effort; a reliable subscription would not match them.
    SENSOR: qos_profile_sensor_data,
    STATE: QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=10,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
    ),
    # Late joiners (RViz, Nav2) still get the last map and calibration.
    LATCHED: QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    ),
}


def profile(qos_class: str) -> QoSProfile:
    return PROFILES[qos_class]
