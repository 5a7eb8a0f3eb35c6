"""Approximate-time matching of several inputs, with message_filters' semantics.

Follows `message_filters.ApproximateTimeSynchronizer` (Python, ROS 2): each input keeps a queue
of at most `queue_size` messages keyed by header stamp (the oldest is dropped); when a message
arrives, the other queues are searched for stamps within `slop` of it, nearest first, and the
first combination whose spread is below `slop` is emitted and removed from the queues.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from astro_slam.msgs.time import header_ns


class ApproximateTimeSynchronizer:
    """Matches messages from `n_inputs` inputs; calls `callback(*msgs)` on each match."""

    def __init__(
        self, n_inputs: int, queue_size: int, slop_s: float, callback: Callable[..., None]
    ) -> None:
        if n_inputs < 2 or queue_size < 1 or slop_s <= 0:
            raise ValueError('need >= 2 inputs, queue_size >= 1 and slop > 0')
        self.queues: list[dict[int, Any]] = [{} for _ in range(n_inputs)]
        self.queue_size = queue_size
        self.slop_ns = round(slop_s * 1e9)
        self.callback = callback
        self.dropped = 0  # messages evicted from a full queue without a match

    def add(self, index: int, msg: Any) -> None:
        """Adds the message of input `index` and emits a match if one is complete."""
        stamp = header_ns(msg)
        queue = self.queues[index]
        queue[stamp] = msg
        while len(queue) > self.queue_size:
            del queue[min(queue)]
            self.dropped += 1
        candidates = []
        for i, other in enumerate(self.queues):
            if i == index:
                continue
            near = sorted((abs(s - stamp), s) for s in other if abs(s - stamp) <= self.slop_ns)
            if not near:
                return
            candidates.append([s for _, s in near])
        for combo in itertools.product(*candidates):
            stamps = list(combo)
            stamps.insert(index, stamp)
            if max(stamps) - min(stamps) < self.slop_ns:
                msgs = [q.pop(s) for q, s in zip(self.queues, stamps, strict=True)]
                self.callback(*msgs)
                return
