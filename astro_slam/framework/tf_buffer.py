"""An offline TF buffer: static and dynamic edges, lookup at a time with interpolation.

Semantics follow tf2: a lookup at time 0 uses the latest time all dynamic edges of the chain
share; a time outside an edge's buffered interval is an extrapolation error; dynamic edges keep
`cache_time_s` of history.
"""

from __future__ import annotations

import bisect

import numpy as np

from astro_slam.transforms import interpolate, inverse
from astro_slam.types import StampedTransform


class TfError(LookupError):
    """The transform cannot be computed: unknown frame, no path, or extrapolation."""


class _Edge:
    __slots__ = ('parent', 'poses', 'static', 'times')

    def __init__(self, parent: str, static: bool) -> None:
        self.parent = parent
        self.static = static
        self.times: list[int] = []
        self.poses: list[np.ndarray] = []

    def at(self, t_ns: int, child: str) -> np.ndarray:
        if self.static:
            return self.poses[-1]
        i = bisect.bisect_left(self.times, t_ns)
        if i < len(self.times) and self.times[i] == t_ns:
            return self.poses[i]
        if i == 0 or i == len(self.times):
            raise TfError(
                f'extrapolation: {self.parent} -> {child} is known in '
                f'[{self.times[0]}, {self.times[-1]}] ns, asked at {t_ns} ns'
            )
        t0, t1 = self.times[i - 1], self.times[i]
        return interpolate(self.poses[i - 1], self.poses[i], (t_ns - t0) / (t1 - t0))


class TfBuffer:
    """Holds the TF tree; `lookup(target, source, t_ns)` returns T_target_source."""

    def __init__(self, cache_time_s: float = 10.0) -> None:
        self.cache_ns = int(cache_time_s * 1e9)
        self._edges: dict[str, _Edge] = {}

    def set_transform(self, tf: StampedTransform, static: bool = False) -> None:
        """Adds T_parent_child at tf.t_ns; a new parent for a child replaces its history."""
        if tf.parent_frame == tf.child_frame or not tf.child_frame:
            raise TfError(f'invalid edge {tf.parent_frame!r} -> {tf.child_frame!r}')
        edge = self._edges.get(tf.child_frame)
        if edge is None or edge.parent != tf.parent_frame or edge.static != static:
            edge = self._edges[tf.child_frame] = _Edge(tf.parent_frame, static)
        if static:
            edge.times, edge.poses = [tf.t_ns], [np.asarray(tf.T, dtype=float)]
            return
        i = bisect.bisect_left(edge.times, tf.t_ns)
        if i < len(edge.times) and edge.times[i] == tf.t_ns:
            edge.poses[i] = np.asarray(tf.T, dtype=float)
        else:
            edge.times.insert(i, tf.t_ns)
            edge.poses.insert(i, np.asarray(tf.T, dtype=float))
        cut = bisect.bisect_left(edge.times, edge.times[-1] - self.cache_ns)
        if cut:
            del edge.times[:cut], edge.poses[:cut]

    def frames(self) -> set[str]:
        return set(self._edges) | {e.parent for e in self._edges.values()}

    def _chain(self, frame: str) -> list[str]:
        """frame, its parent, ... up to the root."""
        chain = [frame]
        while chain[-1] in self._edges:
            chain.append(self._edges[chain[-1]].parent)
            if len(chain) > len(self._edges) + 1:
                raise TfError(f'TF loop above {frame}')
        return chain

    def lookup(self, target: str, source: str, t_ns: int = 0) -> np.ndarray:
        """T_target_source (4, 4) at t_ns; 0 means the latest common time.

        Raises:
            TfError: unknown frames, frames in different trees, or extrapolation.
        """
        if target == source:
            return np.eye(4)
        for frame in (target, source):
            if frame not in self.frames():
                raise TfError(f'frame {frame!r} does not exist')
        up_source, up_target = self._chain(source), self._chain(target)
        common = next((f for f in up_source if f in set(up_target)), None)
        if common is None:
            raise TfError(f'{source!r} and {target!r} are not connected')
        source_path = up_source[: up_source.index(common)]
        target_path = up_target[: up_target.index(common)]
        if t_ns == 0:
            t_ns = self._latest_common(source_path + target_path)
        T_common_source = self._compose(source_path, t_ns)
        T_common_target = self._compose(target_path, t_ns)
        return inverse(T_common_target) @ T_common_source

    def can_transform(self, target: str, source: str, t_ns: int = 0) -> bool:
        try:
            self.lookup(target, source, t_ns)
        except TfError:
            return False
        return True

    def _latest_common(self, children: list[str]) -> int:
        dynamic = [self._edges[c].times[-1] for c in children if not self._edges[c].static]
        return min(dynamic) if dynamic else 0

    def _compose(self, children: list[str], t_ns: int) -> np.ndarray:
        """T_top_child for the chain child -> ... -> top (children listed bottom-up)."""
        T = np.eye(4)
        for child in children:
            T = self._edges[child].at(t_ns, child) @ T
        return T
