"""The offline host: components wired by topic name, delivered synchronously and in order.

Messages fed to the graph and messages components publish go through one FIFO queue; each
message reaches all of its subscribers, in the order they were added, before the next one is
taken. A run is therefore deterministic. /tf and /tf_static feed the graph's TF buffer, which
components query through `io.lookup_transform`. Timers fire on the time of the fed messages.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from astro_slam.framework.component import Component, Interface, Topic
from astro_slam.framework.dispatch import Dispatcher
from astro_slam.framework.sync import ApproximateTimeSynchronizer
from astro_slam.framework.tf_buffer import TfBuffer, TfError
from astro_slam.msgs.errors import InvalidMessage
from astro_slam.msgs.factory import MessageFactory, default_factory, msgtype_of
from astro_slam.msgs.poses import from_tf_message

TF_TOPIC = '/tf'
TF_STATIC_TOPIC = '/tf_static'

# A tap sees (topic, msg, now_ns, publisher): publisher is the node name, or None for fed input.
Tap = Callable[[str, Any, int, str | None], None]


def resolve(name: str, remappings: Mapping[str, str] | None = None) -> str:
    """Absolute topic name after remapping (the offline graph has the root namespace)."""
    absolute = name if name.startswith('/') else f'/{name}'
    if remappings:
        absolute = remappings.get(absolute, remappings.get(name, absolute))
        absolute = absolute if absolute.startswith('/') else f'/{absolute}'
    return absolute


@dataclass
class _Node:
    component: Component
    interface: Interface
    dispatcher: Dispatcher
    remappings: dict[str, str]
    publications: dict[str, Topic]  # declared name -> topic


class _GraphIO:
    """What the Graph gives one component: publish, TF lookup, clock, factory, logger."""

    def __init__(self, graph: Graph, logger: logging.Logger) -> None:
        self._graph = graph
        self._node: _Node | None = None
        self.factory = graph.factory
        self.logger = logger

    def publish(self, topic: str, msg: Any) -> None:
        node = self._node
        if node is None or topic not in node.publications:
            raise KeyError(f'{topic!r} is not a declared publication')
        declared = node.publications[topic]
        if msgtype_of(msg) != declared.msgtype:
            raise TypeError(f'{topic}: published {msgtype_of(msg)}, declared {declared.msgtype}')
        self._graph._enqueue(resolve(topic, node.remappings), msg, node.component.node_name)

    def lookup_transform(self, target: str, source: str, t_ns: int) -> np.ndarray | None:
        try:
            return self._graph.tf.lookup(target, source, t_ns)
        except TfError:
            return None

    def now_ns(self) -> int:
        return self._graph.now_ns


class Graph:
    """Hosts components offline; see the module docstring.

    Args:
        factory: builds outgoing messages (rosbags classes by default).
        remappings: global remappings, absolute name -> absolute name.
        strict: let unexpected callback exceptions propagate (tests) instead of counting them.
    """

    def __init__(
        self,
        factory: MessageFactory | None = None,
        remappings: Mapping[str, str] | None = None,
        strict: bool = False,
    ) -> None:
        self.factory = factory or default_factory()
        self.remappings = dict(remappings or {})
        self.strict = strict
        self.tf = TfBuffer()
        self.now_ns = 0
        self.nodes: list[_Node] = []
        self._subscribers: dict[str, list[Callable[[Any], None]]] = {}
        self._queue: deque[tuple[str, Any, str | None]] = deque()
        self._tf_children: set[str] = set()  # frames whose TF the components publish
        self._taps: list[Tap] = []
        self._timers: list[_TimerState] = []

    def add(
        self,
        component_cls: type[Component],
        config: Any = None,
        remappings: Mapping[str, str] | None = None,
    ) -> Component:
        """Creates a component with `config` (defaults if None) and wires it by topic name."""
        logger = logging.getLogger(f'astro_slam.{component_cls.node_name}')
        io = _GraphIO(self, logger)
        component = component_cls(config if config is not None else component_cls.Config(), io)
        node_remaps = {
            **self.remappings,
            **{resolve(k): resolve(v) for k, v in (remappings or {}).items()},
        }
        interface = component.interface()
        node = _Node(
            component,
            interface,
            Dispatcher(component, logger, self.strict),
            node_remaps,
            {t.name: t for t in interface.publications},
        )
        io._node = node
        self.nodes.append(node)
        for sub in interface.subscriptions:
            topic = resolve(sub.topic.name, node_remaps)
            self._subscribe(
                topic, lambda msg, s=sub, t=topic, d=node.dispatcher: d.deliver(s, t, msg)
            )
        for synced in interface.synced:
            topics = tuple(resolve(t.name, node_remaps) for t in synced.topics)
            sync = ApproximateTimeSynchronizer(
                len(topics),
                synced.queue_size,
                synced.slop_s,
                lambda *msgs, s=synced, t=topics, d=node.dispatcher: d.deliver_synced(
                    s.callback, t, msgs
                ),
            )
            for index, topic in enumerate(topics):
                self._subscribe(
                    topic,
                    lambda msg, i=index, y=sync, t=topic, d=node.dispatcher: _add_synced(
                        y, i, msg, t, d
                    ),
                )
        for timer in interface.timers:
            self._timers.append(_TimerState(node, int(timer.period_s * 1e9), timer.callback))
        return component

    def _subscribe(self, topic: str, deliver: Callable[[Any], None]) -> None:
        self._subscribers.setdefault(topic, []).append(deliver)

    def tap(self, callback: Tap) -> None:
        """Observes every message that passes through the graph; see `Tap`."""
        self._taps.append(callback)

    def inputs(self) -> dict[str, str]:
        """Topics some component subscribes to and no component publishes: name -> msgtype."""
        published = self.outputs()
        inputs = {}
        for node in self.nodes:
            for topic in node.interface.input_topics():
                name = resolve(topic.name, node.remappings)
                if name not in published:
                    inputs[name] = topic.msgtype
        return inputs

    def outputs(self) -> dict[str, Topic]:
        """Resolved name -> declared topic of everything the components publish."""
        return {
            resolve(t.name, n.remappings): t for n in self.nodes for t in n.interface.publications
        }

    def feed(self, topic: str, msg: Any, t_ns: int) -> None:
        """One external message (from a bag or a driver) at receive time t_ns."""
        if t_ns >= self.now_ns:
            self._fire_timers(t_ns)
            self.now_ns = t_ns
        self._enqueue(topic, msg, None)

    def call_service(self, name: str) -> tuple[bool, str]:
        """Calls a component's Trigger service by (resolved) name."""
        for node in self.nodes:
            for service in node.interface.services:
                if resolve(service.name, node.remappings) == name:
                    result = node.dispatcher.call(name, getattr(node.component, service.callback))
                    return result if result is not None else (False, 'the service failed')
        raise KeyError(f'no component offers the service {name!r}')

    def shutdown(self) -> None:
        """Ends the run: each component's shutdown(), in the order they were added."""
        for node in self.nodes:
            node.dispatcher.call('shutdown', node.component.shutdown)

    def stats(self) -> dict[str, Any]:
        return {
            type(n.component).node_name: {
                **n.dispatcher.stats.as_dict(),
                'diagnostics': n.component.diagnostics(),
            }
            for n in self.nodes
        }

    def _enqueue(self, topic: str, msg: Any, publisher: str | None) -> None:
        self._queue.append((topic, msg, publisher))
        if len(self._queue) == 1:
            self._pump()

    def _pump(self) -> None:
        # Only the outermost _enqueue pumps; publications made by callbacks join the queue.
        while self._queue:
            topic, msg, publisher = self._queue[0]
            for tap in self._taps:
                tap(topic, msg, self.now_ns, publisher)
            if topic in (TF_TOPIC, TF_STATIC_TOPIC):
                self._update_tf(msg, topic == TF_STATIC_TOPIC, publisher)
            for deliver in self._subscribers.get(topic, ()):
                deliver(msg)
            self._queue.popleft()

    def _update_tf(self, msg: Any, static: bool, publisher: str | None) -> None:
        """Feeds the TF buffer; a bag's edges that the stack itself publishes are ignored.

        A robot's bag usually carries the base driver's odom -> base_link; replaying it beside
        the stack's own would give a frame two parents' worth of contradicting history.
        """
        try:
            for tf in from_tf_message(msg):
                if publisher is not None:
                    self._tf_children.add(tf.child_frame)
                elif tf.child_frame in self._tf_children:
                    continue
                self.tf.set_transform(tf, static=static)
        except (InvalidMessage, TfError) as err:
            logging.getLogger(__name__).warning('ignored a TF message: %s', err)

    def _fire_timers(self, t_ns: int) -> None:
        """Fires every timer due up to t_ns, in time order; the first period starts at t_ns."""
        for timer in self._timers:
            if timer.due_ns is None:
                timer.due_ns = t_ns + timer.period_ns
        while self._timers:
            timer = min(self._timers, key=lambda x: x.due_ns)
            if timer.due_ns > t_ns:
                return
            self.now_ns = timer.due_ns
            timer.node.dispatcher.call(
                timer.callback, getattr(timer.node.component, timer.callback)
            )
            timer.due_ns += timer.period_ns


@dataclass
class _TimerState:
    node: _Node
    period_ns: int
    callback: str
    due_ns: int | None = None


def _add_synced(
    sync: ApproximateTimeSynchronizer, index: int, msg: Any, topic: str, dispatcher: Dispatcher
) -> None:
    try:
        sync.add(index, msg)
    except InvalidMessage as err:
        dispatcher.drop(topic, 'invalid', str(err))
