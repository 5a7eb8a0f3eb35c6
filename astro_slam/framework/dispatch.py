"""Delivers inputs to one component's callbacks, counting drops and CPU time; shared by hosts.

Both the offline Graph and the rclpy binding go through a Dispatcher, so a bad message is
dropped, logged and counted the same way live and in replay, and never stops the node.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from astro_slam.framework.component import Component, Subscription
from astro_slam.msgs.errors import InvalidMessage
from astro_slam.msgs.time import header_ns


@dataclass
class DispatchStats:
    """Per-topic counts of delivered and dropped messages, and callback CPU seconds."""

    received: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)  # key: (topic, reason)
    cpu_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        drops: dict[str, dict[str, int]] = {}
        for (topic, reason), n in sorted(self.dropped.items()):
            drops.setdefault(topic, {})[reason] = n
        return {
            'received': dict(sorted(self.received.items())),
            'dropped': drops,
            'cpu_s': round(self.cpu_s, 6),
        }


class Dispatcher:
    """Calls a component's callbacks; see the module docstring.

    Args:
        component: the component to call.
        logger: where drops and errors are logged.
        strict: re-raise unexpected exceptions (tests) instead of counting them.
    """

    def __init__(self, component: Component, logger: logging.Logger, strict: bool = False):
        self.component = component
        self.logger = logger
        self.strict = strict
        self.stats = DispatchStats()
        self._last_stamp: dict[str, int] = {}

    def deliver(self, sub: Subscription, topic: str, msg: Any) -> None:
        """One message of `topic` (the resolved name) for subscription `sub`."""
        self.stats.received[topic] += 1
        if sub.check_order and not self._in_order(topic, msg):
            return
        self._call(topic, getattr(self.component, sub.callback), msg)

    def deliver_synced(self, callback: str, topics: tuple[str, ...], msgs: tuple) -> None:
        for topic in topics:
            self.stats.received[topic] += 1
        self._call('+'.join(topics), getattr(self.component, callback), *msgs)

    def call(self, key: str, callback: Callable[..., Any], *args: Any) -> Any:
        """A timer or service callback; returns its result, or None after a counted error."""
        return self._call(key, callback, *args)

    def drop(self, topic: str, reason: str, detail: str = '') -> None:
        """Counts a drop and logs the first one of each kind, then every tenfold count."""
        self.stats.dropped[(topic, reason)] += 1
        n = self.stats.dropped[(topic, reason)]
        if n in (1, 10, 100) or n % 1000 == 0:
            self.logger.warning(
                'dropped %s message on %s (%d so far): %s', reason, topic, n, detail or reason
            )

    def _in_order(self, topic: str, msg: Any) -> bool:
        if not hasattr(msg, 'header'):
            return True
        try:
            stamp = header_ns(msg)
        except InvalidMessage as err:
            self.drop(topic, 'invalid', str(err))
            return False
        last = self._last_stamp.get(topic)
        if last is not None and stamp <= last:
            reason = 'duplicate_stamp' if stamp == last else 'out_of_order'
            self.drop(topic, reason, f'stamp {stamp} ns after {last} ns')
            return False
        self._last_stamp[topic] = stamp
        return True

    def _call(self, key: str, callback: Callable[..., Any], *args: Any) -> Any:
        start = time.process_time()
        try:
            return callback(*args)
        except InvalidMessage as err:
            self.drop(key, 'invalid', str(err))
        except Exception:
            if self.strict:
                raise
            self.stats.dropped[(key, 'error')] += 1
            if self.stats.dropped[(key, 'error')] == 1:
                self.logger.exception(
                    '%s failed on %s; the message was dropped', type(self.component).__name__, key
                )
        finally:
            self.stats.cpu_s += time.process_time() - start
        return None
