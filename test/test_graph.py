"""The offline Graph: wiring by topic name, order, remapping, drops, timers, services, TF."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from astro_slam.framework.component import (
    SENSOR,
    Component,
    Interface,
    Service,
    Subscription,
    SyncedSubscription,
    Timer,
    Topic,
)
from astro_slam.framework.config import param
from astro_slam.framework.graph import Graph
from astro_slam.msgs.poses import from_odometry, to_odometry, to_tf_message
from astro_slam.transforms import make_transform
from astro_slam.types import OdometryEstimate, StampedTransform

ODOM = 'nav_msgs/msg/Odometry'
S = 1_000_000_000


@dataclass(frozen=True)
class RelayConfig:
    count: int = param(1, 'Copies published per input.')


class Relay(Component):
    """Republishes each input `count` times and remembers what it saw."""

    node_name = 'relay'
    Config = RelayConfig
    IN = Topic('in', ODOM, SENSOR)
    OUT = Topic('out', ODOM)

    def __init__(self, config, io):
        super().__init__(config, io)
        self.seen: list[int] = []
        self.ticks: list[int] = []

    def interface(self) -> Interface:
        return Interface(
            subscriptions=(Subscription(self.IN, 'on_in'),),
            publications=(self.OUT,),
            services=(Service('relay/reset', 'reset'),),
            timers=(Timer(1.0, 'tick'),),
        )

    def on_in(self, msg) -> None:
        odom = from_odometry(msg)  # raises InvalidMessage on NaN
        self.seen.append(odom.t_ns)
        for _ in range(self.config.count):
            self.io.publish('out', msg)

    def tick(self) -> None:
        self.ticks.append(self.io.now_ns())

    def reset(self) -> tuple[bool, str]:
        self.seen.clear()
        return True, 'cleared'


class Sink(Component):
    node_name = 'sink'
    Config = RelayConfig

    def __init__(self, config, io):
        super().__init__(config, io)
        self.seen: list[tuple[str, int]] = []

    def interface(self) -> Interface:
        return Interface(
            subscriptions=(
                Subscription(Topic('out', ODOM), 'on_out', check_order=False),
                Subscription(Topic('in', ODOM), 'on_in'),
            )
        )

    def on_out(self, msg) -> None:
        self.seen.append(('out', from_odometry(msg).t_ns))

    def on_in(self, msg) -> None:
        self.seen.append(('in', from_odometry(msg).t_ns))


def _odom(factory, t_ns: int, x: float = 0.0):
    return to_odometry(
        factory, OdometryEstimate(t_ns, 'odom', 'base', make_transform(t=[x, 0, 0]))
    )


def test_delivers_in_fifo_order_to_every_subscriber(factory):
    graph = Graph(factory, strict=True)
    graph.add(Relay, RelayConfig(count=2))
    sink = graph.add(Sink)
    graph.feed('/in', _odom(factory, 1), 1)
    # The input reaches both subscribers before the relay's outputs are delivered.
    assert sink.seen == [('in', 1), ('out', 1), ('out', 1)]
    assert graph.inputs() == {'/in': ODOM}
    assert set(graph.outputs()) == {'/out'}


def test_remapping_rewires_topics(factory):
    graph = Graph(factory, strict=True)
    relay = graph.add(Relay, remappings={'in': '/wheel/odometry'})
    graph.feed('/in', _odom(factory, 1), 1)
    graph.feed('/wheel/odometry', _odom(factory, 2), 2)
    assert relay.seen == [2]
    assert graph.inputs() == {'/wheel/odometry': ODOM}


def test_out_of_order_duplicate_and_nan_messages_are_counted_drops(factory):
    graph = Graph(factory)
    relay = graph.add(Relay)
    bad = _odom(factory, 4 * S)
    bad.pose.pose.position.y = float('nan')
    for t in (1 * S, 3 * S, 2 * S, 3 * S):
        graph.feed('/in', _odom(factory, t), t)
    graph.feed('/in', bad, 4 * S)
    assert relay.seen == [1 * S, 3 * S]
    dropped = graph.stats()['relay']['dropped']['/in']
    assert dropped == {'out_of_order': 1, 'duplicate_stamp': 1, 'invalid': 1}


def test_timers_fire_on_bag_time(factory):
    graph = Graph(factory, strict=True)
    relay = graph.add(Relay)
    for t in (0, int(0.5 * S), int(3.2 * S)):
        graph.feed('/in', _odom(factory, t + 1), t)
    assert relay.ticks == [1 * S, 2 * S, 3 * S]


def test_services_are_called_by_name(factory):
    graph = Graph(factory, strict=True)
    relay = graph.add(Relay)
    graph.feed('/in', _odom(factory, 1), 1)
    assert graph.call_service('/relay/reset') == (True, 'cleared')
    assert relay.seen == []
    with pytest.raises(KeyError):
        graph.call_service('/nope')


class Liar(Relay):
    def on_in(self, msg) -> None:
        self.io.publish('undeclared', msg)


def test_publishing_an_undeclared_topic_is_an_error_and_counted_when_not_strict(factory):
    with pytest.raises(KeyError):
        strict = Graph(factory, strict=True)
        strict.add(Liar)
        strict.feed('/in', _odom(factory, 1), 1)
    graph = Graph(factory)
    graph.add(Liar)
    graph.feed('/in', _odom(factory, 1), 1)  # the node survives
    assert graph.stats()['relay']['dropped']['/in'] == {'error': 1}


class TfUser(Relay):
    def on_in(self, msg) -> None:
        self.T = self.io.lookup_transform('odom', 'camera', from_odometry(msg).t_ns)


def test_components_look_up_tf_fed_to_the_graph(factory):
    graph = Graph(factory, strict=True)
    user = graph.add(TfUser)
    static = StampedTransform(0, 'base', 'camera', make_transform(t=[0.1, 0, 0]))
    graph.feed('/tf_static', to_tf_message(factory, [static]), 0)
    for t in (1 * S, 3 * S):
        edge = StampedTransform(t, 'odom', 'base', make_transform(t=[t / S, 0, 0]))
        graph.feed('/tf', to_tf_message(factory, [edge]), t)
    graph.feed('/in', _odom(factory, 2 * S), 3 * S)
    np.testing.assert_allclose(user.T[:3, 3], [2.1, 0, 0])
    graph.feed('/in', _odom(factory, 5 * S), 5 * S)
    assert user.T is None  # beyond the buffered TF: None, not a crash


class Stereo(Relay):
    def interface(self) -> Interface:
        return Interface(
            synced=(
                SyncedSubscription(
                    (Topic('left', ODOM), Topic('right', ODOM)), 'on_pair', slop_s=0.01
                ),
            )
        )

    def on_pair(self, left, right) -> None:
        self.seen.append((from_odometry(left).t_ns, from_odometry(right).t_ns))


def test_synced_inputs_arrive_as_pairs(factory):
    graph = Graph(factory, strict=True)
    stereo = graph.add(Stereo)
    ms = 1_000_000
    for i in range(3):
        graph.feed('/right', _odom(factory, i * 100 * ms + 2 * ms), i)
        graph.feed('/left', _odom(factory, i * 100 * ms), i)
    assert stereo.seen == [(i * 100 * ms, i * 100 * ms + 2 * ms) for i in range(3)]
