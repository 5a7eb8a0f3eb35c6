"""Taps on a Graph that record what the nodes publish: an output bag and TUM trajectories."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from astro_slam.framework.component import Topic
from astro_slam.framework.graph import TF_TOPIC
from astro_slam.msgs.errors import InvalidMessage
from astro_slam.msgs.poses import from_odometry, from_tf_message
from astro_slam.tools.bag_io import BagWriter
from astro_slam.tools.tum import write_tum

logger = logging.getLogger(__name__)

GROUND_TRUTH_TOPIC = '/ground_truth/odometry'
VO_TOPIC = '/vo/odometry'


class OutputBagRecorder:
    """Writes every message the components publish, at graph time, to a bag."""

    def __init__(self, writer: BagWriter, outputs: Mapping[str, Topic]) -> None:
        self.writer = writer
        self.outputs = dict(outputs)
        self.failed = 0

    def __call__(self, topic: str, msg: Any, t_ns: int, publisher: str | None) -> None:
        declared = self.outputs.get(topic)
        if declared is None or publisher is None:
            return
        try:
            self.writer.write(topic, msg, t_ns, declared.qos)
        except Exception as err:  # a message the typestore cannot serialise is counted, not fatal
            self.failed += 1
            if self.failed == 1:
                logger.warning('could not record a message on %s: %s', topic, err)


@dataclass
class _Series:
    stamps: list[int] = field(default_factory=list)
    poses: list[np.ndarray] = field(default_factory=list)

    def add(self, t_ns: int, T: np.ndarray) -> None:
        self.stamps.append(t_ns)
        self.poses.append(T)


class TrajectoryRecorder:
    """Collects odom -> base, map -> odom, VO and ground-truth poses as they pass.

    TF is taken from what the components publish only, never from the input bag's own /tf.

    slam.tum is map -> base: each odom -> base sample composed with the latest map -> odom
    published at or before it, unless that one is older than MAP_ODOM_MAX_AGE_S (the backend
    stops publishing it while it does not know where the robot is, and a TF user would then
    get no transform); there is none before the backend's first estimate.
    """

    MAP_ODOM_MAX_AGE_S = 1.0

    def __init__(
        self, map_frame: str = 'map', odom_frame: str = 'odom', base_frame: str = 'base_link'
    ) -> None:
        self.frames = (map_frame, odom_frame, base_frame)
        self.odom = _Series()
        self.map_odom = _Series()
        self.vo = _Series()
        self.ground_truth = _Series()
        self.invalid = 0

    def __call__(self, topic: str, msg: Any, t_ns: int, publisher: str | None) -> None:
        try:
            if topic == TF_TOPIC and publisher is not None:
                self._on_tf(msg)
            elif topic == VO_TOPIC:
                odom = from_odometry(msg)
                self.vo.add(odom.t_ns, odom.T)
            elif topic == GROUND_TRUTH_TOPIC and publisher is None:
                odom = from_odometry(msg)
                self.ground_truth.add(odom.t_ns, odom.T)
        except InvalidMessage:
            self.invalid += 1

    def _on_tf(self, msg: Any) -> None:
        map_frame, odom_frame, base_frame = self.frames
        for tf in from_tf_message(msg):
            if (tf.parent_frame, tf.child_frame) == (odom_frame, base_frame):
                self.odom.add(tf.t_ns, tf.T)
            elif (tf.parent_frame, tf.child_frame) == (map_frame, odom_frame):
                self.map_odom.add(tf.t_ns, tf.T)

    def slam(self) -> _Series:
        order = np.argsort(self.map_odom.stamps, kind='stable')
        map_stamps = [self.map_odom.stamps[i] for i in order]
        slam = _Series()
        for t_ns, T_odom_base in zip(self.odom.stamps, self.odom.poses, strict=True):
            i = bisect.bisect_right(map_stamps, t_ns) - 1
            if i >= 0 and t_ns - map_stamps[i] <= self.MAP_ODOM_MAX_AGE_S * 1e9:
                slam.add(t_ns, self.map_odom.poses[order[i]] @ T_odom_base)
        return slam

    def write(self, folder: Path) -> dict[str, int]:
        """Writes the non-empty trajectories; returns file name -> number of poses."""
        written = {}
        for name, series in (
            ('slam.tum', self.slam()),
            ('odom.tum', self.odom),
            ('vo.tum', self.vo),
            ('ground_truth.tum', self.ground_truth),
        ):
            if series.stamps:
                write_tum(folder / name, series.stamps, series.poses)
                written[name] = len(series.stamps)
        return written
