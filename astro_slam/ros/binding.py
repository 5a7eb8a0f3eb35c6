"""The generic rclpy shell: one ComponentNode hosts any component.

Parameters are declared from the component's config dataclass (with descriptions), topics get
the QoS of ros/qos.py, /tf and /tf_static outputs go through tf2_ros broadcasters, synced inputs
through message_filters, TF lookups through a tf2_ros Buffer. Every callback goes through the
same Dispatcher as the offline Graph, so drops are counted the same way live and in replay, and
/diagnostics carries them every second (framework/health.py).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import rclpy
import tf2_ros
from message_filters import ApproximateTimeSynchronizer, Subscriber
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.time import Time
from rosidl_runtime_py.utilities import get_message, get_service

from astro_slam.framework.component import STATE, Component
from astro_slam.framework.config import config_from_params, param_specs
from astro_slam.framework.dispatch import Dispatcher
from astro_slam.framework.graph import TF_STATIC_TOPIC, TF_TOPIC
from astro_slam.framework.health import node_health
from astro_slam.msgs.diagnostics import to_diagnostic_array
from astro_slam.msgs.factory import RclpyFactory
from astro_slam.msgs.poses import from_transform_stamped
from astro_slam.ros.qos import profile


class RosIO:
    """ComponentIO on a live node: publishers, TF broadcasters, a TF buffer and the ROS clock."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self.factory = RclpyFactory()
        self.logger = _LoggerAdapter(node.get_logger())
        self.tf_buffer = tf2_ros.Buffer()
        self.tf_listener = tf2_ros.TransformListener(self.tf_buffer, node)
        self.publishers: dict[str, Any] = {}
        self.broadcasters: dict[str, Any] = {}

    def publish(self, topic: str, msg: Any) -> None:
        if topic in self.broadcasters:
            self.broadcasters[topic].sendTransform(list(msg.transforms))
        else:
            self.publishers[topic].publish(msg)

    def lookup_transform(self, target: str, source: str, t_ns: int) -> np.ndarray | None:
        try:
            tf = self.tf_buffer.lookup_transform(target, source, Time(nanoseconds=t_ns))
        except tf2_ros.TransformException:
            return None
        return from_transform_stamped(tf).T

    def now_ns(self) -> int:
        return self._node.get_clock().now().nanoseconds


class ComponentNode(Node):
    """An rclpy Node around one component; see the module docstring."""

    def __init__(self, component_cls: type[Component], **node_kwargs: Any) -> None:
        super().__init__(component_cls.node_name, **node_kwargs)
        config = config_from_params(
            component_cls.Config, self._declare_parameters(component_cls.Config)
        )
        self.io = RosIO(self)
        self.component = component_cls(config, self.io)
        self.dispatcher = Dispatcher(self.component, self.io.logger)
        self._synchronizers: list[Any] = []  # message_filters objects must outlive __init__
        self._wire(self.component.interface())
        self._diagnostics = self.create_publisher(
            get_message('diagnostic_msgs/msg/DiagnosticArray'), '/diagnostics', profile(STATE)
        )
        self._drops = 0
        self.create_timer(1.0, self._publish_health)
        self.get_logger().info(f'{component_cls.__name__} ready')

    def _declare_parameters(self, config_cls: type) -> dict[str, Any]:
        values = {}
        for spec in param_specs(config_cls):
            unit = f' [{spec.unit}]' if spec.unit else ''
            descriptor = ParameterDescriptor(
                description=f'{spec.doc}{unit}',
                read_only=True,
                additional_constraints=f'one of {list(spec.choices)}' if spec.choices else '',
            )
            default = _ros_default(spec)
            # rclpy types a parameter from its default: an empty list would become BYTE_ARRAY
            # and refuse every later override, so empty lists are declared dynamically typed.
            descriptor.dynamic_typing = default == []
            value = self.declare_parameter(spec.name, default, descriptor).value
            values[spec.name] = tuple(value) if isinstance(spec.default, tuple) else value
        return values

    def _wire(self, interface: Any) -> None:
        d, io = self.dispatcher, self.io
        for topic in interface.publications:
            if topic.name == TF_STATIC_TOPIC:
                io.broadcasters[topic.name] = tf2_ros.StaticTransformBroadcaster(self)
            elif topic.name == TF_TOPIC:
                io.broadcasters[topic.name] = tf2_ros.TransformBroadcaster(self)
            else:
                io.publishers[topic.name] = self.create_publisher(
                    get_message(topic.msgtype), topic.name, profile(topic.qos)
                )
        for sub in interface.subscriptions:
            name = self.resolve_topic_name(sub.topic.name)
            self.create_subscription(
                get_message(sub.topic.msgtype),
                sub.topic.name,
                lambda msg, s=sub, n=name: d.deliver(s, n, msg),
                profile(sub.topic.qos),
            )
        for synced in interface.synced:
            subscribers = [
                Subscriber(self, get_message(t.msgtype), t.name, qos_profile=profile(t.qos))
                for t in synced.topics
            ]
            names = tuple(self.resolve_topic_name(t.name) for t in synced.topics)
            sync = ApproximateTimeSynchronizer(subscribers, synced.queue_size, synced.slop_s)
            sync.registerCallback(
                lambda *msgs, s=synced, n=names: d.deliver_synced(s.callback, n, msgs)
            )
            self._synchronizers += [sync, *subscribers]
        for service in interface.services:
            self.create_service(
                get_service(service.srvtype),
                service.name,
                lambda req, resp, s=service: self._on_trigger(s, resp),
            )
        for timer in interface.timers:
            callback = getattr(self.component, timer.callback)
            self.create_timer(timer.period_s, lambda c=callback, t=timer: d.call(t.callback, c))

    def _publish_health(self) -> None:
        status, self._drops = node_health(
            self.get_name(), self.dispatcher.stats, self.component.diagnostics(), self._drops
        )
        msg = to_diagnostic_array(self.io.factory, [status], self.io.now_ns())
        self._diagnostics.publish(msg)

    def _on_trigger(self, service: Any, response: Any) -> Any:
        result = self.dispatcher.call(service.name, getattr(self.component, service.callback))
        response.success, response.message = result if result else (False, 'the service failed')
        return response


def _ros_default(spec: Any) -> Any:
    """The default as rclpy should see it: lists for tuples, floats where the field is float
    (a default of 30 would otherwise declare an INTEGER parameter that refuses 29.5)."""
    item = spec.type.__args__[0] if isinstance(spec.default, tuple) else spec.type
    convert = float if item is float else (lambda v: v)
    if isinstance(spec.default, tuple):
        return [convert(v) for v in spec.default]
    return convert(spec.default)


class _LoggerAdapter:
    """The rclpy logger under the logging.Logger methods core code calls (%-style args)."""

    def __init__(self, ros_logger: Any) -> None:
        self._log = ros_logger

    def debug(self, msg: str, *args: Any) -> None:
        self._log.debug(msg % args if args else msg)

    def info(self, msg: str, *args: Any) -> None:
        self._log.info(msg % args if args else msg)

    def warning(self, msg: str, *args: Any) -> None:
        self._log.warning(msg % args if args else msg)

    def error(self, msg: str, *args: Any) -> None:
        self._log.error(msg % args if args else msg)

    def exception(self, msg: str, *args: Any) -> None:
        import traceback

        self._log.error((msg % args if args else msg) + '\n' + traceback.format_exc())


def run_component(component_cls: type[Component], args: list[str] | None = None) -> int:
    """`main()` of a node: init, spin until Ctrl-C or shutdown, always clean up."""
    rclpy.init(args=args if args is not None else sys.argv)
    node = None
    try:
        node = ComponentNode(component_cls)
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.dispatcher.call('shutdown', node.component.shutdown)
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
