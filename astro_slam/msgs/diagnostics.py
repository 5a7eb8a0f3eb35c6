"""diagnostic_msgs/DiagnosticArray <-> list of DiagnosticStatus."""

from __future__ import annotations

from typing import Any

from astro_slam.msgs.factory import MessageFactory
from astro_slam.types import DiagnosticStatus


def _level(value: Any) -> int:
    # rclpy maps `byte` to a 1-byte bytes object, rosbags to an int.
    return value[0] if isinstance(value, (bytes, bytearray)) else int(value)


def from_diagnostic_array(msg: Any) -> list[DiagnosticStatus]:
    return [
        DiagnosticStatus(
            name=s.name,
            level=_level(s.level),
            message=s.message,
            hardware_id=s.hardware_id,
            values={kv.key: kv.value for kv in s.values},
        )
        for s in msg.status
    ]


def to_diagnostic_array(
    factory: MessageFactory, statuses: list[DiagnosticStatus], t_ns: int
) -> Any:
    return factory.make(
        'diagnostic_msgs/msg/DiagnosticArray',
        header=factory.header(t_ns, ''),
        status=[
            factory.make(
                'diagnostic_msgs/msg/DiagnosticStatus',
                level=int(s.level),
                name=s.name,
                message=s.message,
                hardware_id=s.hardware_id,
                values=[
                    factory.make('diagnostic_msgs/msg/KeyValue', key=str(k), value=str(v))
                    for k, v in s.values.items()
                ],
            )
            for s in statuses
        ],
    )
