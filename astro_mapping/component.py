"""Map server component: keyframes and the optimized path in; the long-term map kept, saved and
published.

Subscribes: vo/keyframe (landmarks of each keyframe, camera frame), slam/path (optimized
keyframe poses in the map frame; stamps identify keyframes), the camera_info of the keyframes.
Publishes: map (nav_msgs/OccupancyGrid, transient local), map_layers (MarkerArray),
map_server/status (DiagnosticArray: bytes per layer against the budget, counts, last save).
Service: map_server/save_map (std_srvs/Trigger): merge the session so far and save.
Frames: T_base_camera from TF (/tf_static).

The session is held apart from the loaded map until a save merges it (merge.py) and trims the
result to the budget (budget.py); the loaded map stays as it was, so a periodic save merges the
whole session again with its latest poses instead of merging it twice. A map file that cannot
be read is never overwritten: the node runs on an empty map and saves next to it.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from astro_mapping.budget import BudgetParams, layer_bytes, prune
from astro_mapping.config import MapServerConfig
from astro_mapping.floor import FloorParams, integrate, merge_floor, occupancy
from astro_mapping.layers import FloorLayer, LongTermMap
from astro_mapping.markers import layer_markers, session_markers
from astro_mapping.merge import MergeParams, SessionKeyframe, merge_session
from astro_mapping.rooms import RoomParams
from astro_mapping.store import MapFileError, load, save
from astro_slam.backend.vocabulary import Vocabulary
from astro_slam.framework.component import (
    LATCHED,
    SENSOR,
    STATE,
    Component,
    Interface,
    Service,
    Subscription,
    Timer,
    Topic,
)
from astro_slam.msgs.camera import camera_info_to_model
from astro_slam.msgs.diagnostics import to_diagnostic_array
from astro_slam.msgs.keyframe import from_keyframe_cloud
from astro_slam.msgs.markers import to_marker_array
from astro_slam.msgs.occupancy import to_occupancy_grid
from astro_slam.msgs.poses import from_path
from astro_slam.transforms import make_transform
from astro_slam.types import DiagnosticStatus, GridMap


class MapServer(Component):
    """Hosts the long-term map; see the module docstring."""

    node_name = 'map_server'
    Config = MapServerConfig

    KEYFRAME = Topic('vo/keyframe', 'sensor_msgs/msg/PointCloud2', STATE)
    PATH = Topic('slam/path', 'nav_msgs/msg/Path', STATE)
    MAP = Topic('map', 'nav_msgs/msg/OccupancyGrid', LATCHED)
    LAYERS = Topic('map_layers', 'visualization_msgs/msg/MarkerArray', STATE)
    STATUS = Topic('map_server/status', 'diagnostic_msgs/msg/DiagnosticArray', STATE)

    def __init__(self, config: MapServerConfig, io: Any) -> None:
        super().__init__(config, io)
        c = config
        self.floor_params = FloorParams(
            resolution_m=c.resolution_m,
            min_obstacle_height_m=c.min_obstacle_height_m,
            max_obstacle_height_m=c.max_obstacle_height_m,
            max_range_m=c.max_range_m,
        )
        self.merge_params = MergeParams(
            associate_radius_m=c.associate_radius_m,
            max_depth_m=c.max_range_m,
            major_change_share=c.major_change_share,
            change_margin=c.change_margin,
            floor=self.floor_params,
            rooms=RoomParams(),
        )
        self.budget = BudgetParams(
            budget_bytes=c.memory_budget_bytes,
            prune=c.prune,
            place_spacing_m=c.place_spacing_m,
            min_places_per_room=c.min_places_per_room,
        )
        self.vocabulary = Vocabulary.load()
        self.keyframes: list[SessionKeyframe] = []
        self.poses: dict[int, np.ndarray] = {}
        self.live_floor = FloorLayer.empty(c.resolution_m)
        self.integrated: set[int] = set()
        self.K: np.ndarray | None = None
        self.counts = {'keyframes': 0, 'no_extrinsics': 0, 'dropped_keyframes': 0, 'saves': 0}
        self.saves: list[dict[str, Any]] = []
        self.error = ''
        self.save_path = Path(c.map_path) if c.map_path else None
        self.base, self.load_s = self._load()
        resolution = self.base.floor.resolution_m
        if resolution != c.resolution_m:  # the map's grid wins: layers of one map share it
            self.io.logger.warning(
                'map resolution %.3f m (resolution_m %.3f ignored)', resolution, c.resolution_m
            )
            self.floor_params = dataclasses.replace(self.floor_params, resolution_m=resolution)
            self.merge_params = dataclasses.replace(self.merge_params, floor=self.floor_params)
            self.live_floor = FloorLayer.empty(resolution)
        self.shown = self.base  # what /map_layers shows: the last merged map
        self.shown_bytes = layer_bytes(self.shown)  # it changes only with `shown`
        self.map_dirty = self.layers_dirty = True

    def _load(self) -> tuple[LongTermMap, float]:
        c = self.config
        empty = LongTermMap.empty(c.resolution_m, c.map_frame, c.features)
        if not c.map_path:
            return empty, 0.0
        path = Path(c.map_path)
        if not path.exists():
            if c.mode == 'localization':
                self.error = f'no map at {path}: nothing to localize in'
                self.io.logger.error(self.error)
            return empty, 0.0
        start = time.perf_counter()
        try:
            m = load(path, readonly=c.mode == 'localization', features=c.features)
        except MapFileError as err:
            self.save_path = path.with_name(f'{path.stem}.new{path.suffix or ".db"}')
            self.error = f'{err}; starting an empty map, saved to {self.save_path} instead'
            self.io.logger.error(self.error)
            return empty, 0.0
        seconds = time.perf_counter() - start
        self.io.logger.info(
            'loaded %s: %d sessions, %d places, %d landmarks in %.2f s',
            path,
            m.sessions,
            len(m.places),
            len(m.landmarks),
            seconds,
        )
        return m, seconds

    def interface(self) -> Interface:
        c = self.config
        timers = [Timer(c.publish_period_s, 'on_publish_timer')]
        if c.save_period_s > 0 and c.mode == 'mapping':
            timers.append(Timer(c.save_period_s, 'on_save_timer'))
        return Interface(
            subscriptions=(
                Subscription(self.KEYFRAME, 'on_keyframe'),
                Subscription(self.PATH, 'on_path'),
                Subscription(
                    Topic(c.camera_info_topic, 'sensor_msgs/msg/CameraInfo', SENSOR),
                    'on_camera_info',
                    False,
                ),
            ),
            publications=(self.MAP, self.LAYERS, self.STATUS),
            services=(Service('map_server/save_map', 'on_save_map'),),
            timers=tuple(timers),
        )

    # -- inputs ----------------------------------------------------------------------------

    def on_camera_info(self, msg: Any) -> None:
        self.K = camera_info_to_model(msg).projection[:, :3].copy()

    def on_keyframe(self, msg: Any) -> None:
        if self.config.mode != 'mapping':
            return
        cloud = from_keyframe_cloud(msg)
        T_base_camera = self.io.lookup_transform(self.config.base_frame, cloud.frame_id, 0)
        if T_base_camera is None:
            self.counts['no_extrinsics'] += 1
            return
        if len(self.keyframes) >= self.config.max_session_keyframes:
            self.counts['dropped_keyframes'] += 1
            return
        if cloud.ids is None or cloud.descriptors.dtype != np.uint8:
            self.counts['dropped_keyframes'] += 1  # the map keeps binary descriptors with ids
            return
        good = np.all(np.isfinite(cloud.points_c), axis=1)
        self.keyframes.append(
            SessionKeyframe(
                cloud.t_ns,
                T_base_camera,
                cloud.points_c[good].astype(np.float32),
                cloud.ids[good],
                cloud.descriptors[good],
            )
        )
        self.counts['keyframes'] += 1

    def on_path(self, msg: Any) -> None:
        path = from_path(msg)
        self.poses = {p.t_ns: p.T for p in path.poses}
        for k in self.keyframes:
            if k.t_ns not in self.integrated and k.t_ns in self.poses:
                integrate(
                    self.live_floor,
                    self.poses[k.t_ns],
                    k.T_base_camera,
                    k.points_c,
                    self.floor_params,
                )
                self.integrated.add(k.t_ns)
                self.map_dirty = True

    # -- timers and the service ------------------------------------------------------------

    def on_publish_timer(self) -> None:
        t_ns = self.io.now_ns()
        if self.map_dirty:
            # The loaded map plus the session so far (`shown` has a merged copy of it already).
            floor = merge_floor(
                self.base.floor, self.live_floor, self.base.sessions + 1, self.floor_params
            )
            self._publish_map(floor, t_ns)
            self.map_dirty = False
        frame = self.config.map_frame
        markers = []
        if self.layers_dirty:  # the merged layers change only when a save merges
            markers += layer_markers(self.shown, t_ns, frame)
            self.layers_dirty = False
        live = [self.poses[k.t_ns][:3, 3] for k in self.keyframes if k.t_ns in self.poses]
        markers += session_markers(np.array(live).reshape(-1, 3), t_ns, frame)
        self.io.publish(self.LAYERS.name, to_marker_array(self.io.factory, markers))
        self._publish_status(t_ns)

    def on_save_timer(self) -> None:
        self.save_map()

    def on_save_map(self) -> tuple[bool, str]:
        if self.config.mode != 'mapping':
            return False, 'localization mode: the map is read-only'
        return self.save_map()

    def shutdown(self) -> None:
        if self.config.mode == 'mapping' and self.keyframes:
            self.save_map()

    def save_map(self) -> tuple[bool, str]:
        """Merges the session into the loaded map, prunes to the budget, saves atomically."""
        if self.K is None:
            return False, 'no camera_info yet: cannot merge keyframes'
        start = time.perf_counter()
        merged, report = merge_session(
            self.base, self.keyframes, self.poses, self.K, self.merge_params
        )
        if not report.keyframes:
            return False, 'no keyframe of this session is in the map yet (still relocalizing)'
        merged_s = time.perf_counter() - start
        pruned = prune(merged, self.vocabulary, self.budget)
        pruned_s = time.perf_counter() - start - merged_s
        record: dict[str, Any] = {
            'session': merged.sessions,
            'keyframes': report.keyframes,
            'reobserved': report.reobserved,
            'new': report.new,
            'missed': report.missed,
            'reshaped_rooms': report.reshaped_rooms,
            'stale_places': report.stale_places,
            'changes': report.changes,
            'pruned': pruned,
            'bytes': layer_bytes(merged),
            'places': len(merged.places),
            'landmarks': len(merged.landmarks),
            'rooms': len(merged.rooms.rooms),
            'merge_s': round(merged_s, 4),
            'prune_s': round(pruned_s, 4),
        }
        self.shown, self.shown_bytes = merged, record['bytes']
        self.map_dirty = self.layers_dirty = True
        if self.save_path is None:
            message = f'merged session {merged.sessions} (map_path empty: not saved)'
        else:
            try:
                record['file_bytes'] = save(merged, self.save_path)
            except (MapFileError, OSError) as err:
                self.error = f'save failed: {err}'
                self.io.logger.error(self.error)
                return False, self.error
            message = (
                f'saved session {merged.sessions} to {self.save_path} ({record["file_bytes"]} B)'
            )
        record['save_s'] = round(time.perf_counter() - start - merged_s - pruned_s, 4)
        self.saves.append(record)
        self.counts['saves'] += 1
        self.io.logger.info(message)
        return True, message

    # -- outputs ---------------------------------------------------------------------------

    def _publish_map(self, floor: FloorLayer, t_ns: int) -> None:
        if not floor.log_odds.size:
            return
        origin = make_transform(t=np.r_[floor.origin_xy, 0.0])
        grid = GridMap(
            t_ns,
            self.config.map_frame,
            floor.resolution_m,
            occupancy(floor, self.floor_params),
            origin,
        )
        self.io.publish(self.MAP.name, to_occupancy_grid(self.io.factory, grid))

    def _publish_status(self, t_ns: int) -> None:
        sizes = self.shown_bytes
        total = sum(sizes.values())
        budget = self.config.memory_budget_bytes
        values = {f'bytes_{k}': str(v) for k, v in sizes.items()}
        values.update(
            {
                'bytes_total': str(total),
                'budget_bytes': str(budget),
                'budget_used': f'{total / budget:.3f}' if budget > 0 else 'n/a',
                'sessions': str(self.shown.sessions),
                'places': str(len(self.shown.places)),
                'landmarks': str(len(self.shown.landmarks)),
                'rooms': str(len(self.shown.rooms.rooms)),
                'session_keyframes': str(len(self.keyframes)),
                'saves': str(self.counts['saves']),
                'mode': self.config.mode,
            }
        )
        if self.error:
            level, message = DiagnosticStatus.ERROR, self.error
        elif budget > 0 and total > budget:
            level, message = DiagnosticStatus.WARN, 'over budget (pruning is off or cannot fit)'
        else:
            level, message = DiagnosticStatus.OK, f'{total} of {budget} bytes'
        status = DiagnosticStatus('map_server', level, message, 'map_server', values)
        self.io.publish(self.STATUS.name, to_diagnostic_array(self.io.factory, [status], t_ns))

    def diagnostics(self) -> dict[str, Any]:
        return {
            **self.counts,
            'load_s': round(self.load_s, 4),
            'error': self.error,
            'saves': self.saves,
        }
