"""What a component is: a config, declared topics, services and timers, and plain callbacks.

A component never sees rclpy. It receives message objects with ROS field names, builds outgoing
messages with `io.factory`, and publishes them with `io.publish(topic, msg)` on topics it
declared. The offline Graph and the rclpy binding both host components through `ComponentIO`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from astro_slam.msgs.factory import MessageFactory

# QoS classes (docs/ARCHITECTURE.md): mapped to rclpy profiles in ros/qos.py and to the offered
# QoS recorded in output bags.
SENSOR = 'sensor'  # best effort, small depth
STATE = 'state'  # reliable, volatile
LATCHED = 'latched'  # reliable, transient local: maps, calibration, static TF
QOS_CLASSES = (SENSOR, STATE, LATCHED)


@dataclass(frozen=True)
class Topic:
    """A topic as the component names it (relative names resolve under the node namespace)."""

    name: str
    msgtype: str
    qos: str = STATE

    def __post_init__(self) -> None:
        if self.qos not in QOS_CLASSES:
            raise ValueError(f'{self.name}: QoS class {self.qos!r} not in {QOS_CLASSES}')


@dataclass(frozen=True)
class Subscription:
    """One input topic and the method that takes its messages.

    With check_order, a message whose header stamp is not newer than the last one accepted on
    this topic is dropped and counted (duplicate or out of order).
    """

    topic: Topic
    callback: str
    check_order: bool = True


@dataclass(frozen=True)
class SyncedSubscription:
    """Inputs delivered together, matched like message_filters.ApproximateTimeSynchronizer."""

    topics: tuple[Topic, ...]
    callback: str
    queue_size: int = 10
    slop_s: float = 0.01


@dataclass(frozen=True)
class Service:
    """A std_srvs/Trigger-style service: the method returns (success, message)."""

    name: str
    callback: str
    srvtype: str = 'std_srvs/srv/Trigger'


@dataclass(frozen=True)
class Timer:
    """A periodic call on the node's clock (sim time when replaying)."""

    period_s: float
    callback: str


@dataclass(frozen=True)
class Interface:
    """Everything a component exchanges with the outside world."""

    subscriptions: tuple[Subscription, ...] = ()
    synced: tuple[SyncedSubscription, ...] = ()
    publications: tuple[Topic, ...] = ()
    services: tuple[Service, ...] = ()
    timers: tuple[Timer, ...] = ()

    def input_topics(self) -> list[Topic]:
        return [s.topic for s in self.subscriptions] + [t for s in self.synced for t in s.topics]


class ComponentIO(Protocol):
    """What a host gives a component."""

    factory: MessageFactory
    logger: logging.Logger

    def publish(self, topic: str, msg: Any) -> None:
        """Publishes on a declared topic (the name as declared, before remapping)."""

    def lookup_transform(self, target: str, source: str, t_ns: int) -> np.ndarray | None:
        """T_target_source at t_ns (0: latest), or None when TF cannot tell."""

    def now_ns(self) -> int:
        """The node's clock: bag time when replaying, ROS time (or sim time) when live."""


class Component:
    """Base class: subclasses set `node_name` and `Config`, and implement `interface()`.

    Subclasses keep their state and do the work in their callbacks; a bad message raises
    InvalidMessage, which the host counts as a drop.
    """

    node_name: ClassVar[str]
    Config: ClassVar[type]

    def __init__(self, config: Any, io: ComponentIO) -> None:
        if not isinstance(config, self.Config):
            raise TypeError(f'{type(self).__name__} needs a {self.Config.__name__} config')
        self.config = config
        self.io = io

    def interface(self) -> Interface:
        """The topics, services and timers of this component under its config."""
        raise NotImplementedError

    def diagnostics(self) -> dict[str, Any]:
        """Counters and state a host may report (run.json, diagnostics)."""
        return {}

    def shutdown(self) -> None:
        """Called once when the host stops (end of a bag, Ctrl-C): last chance to save.
        Publishing here may fail live (the context can be shut down already)."""
