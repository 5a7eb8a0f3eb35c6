"""Backend component: keyframes and fused odometry in; map -> odom, /slam/pose, /slam/path,
/slam/loop_closures and /slam/status out. The work is in core.py; this file converts messages
and paces the outputs.

Subscribes: vo/keyframe (PointCloud2: x, y, z in the camera frame, u, v, descriptor), the
odometry topic (/odometry/filtered), the camera_info of the keyframes' camera, fusion/relocalize
(std_msgs/Header: the robot was put down at its stamp) and fusion/reliability (the `lifted`
flag breaks the odometry chain at once).
Publishes: TF map -> odom (while localized), slam/pose (PoseWithCovarianceStamped, map frame;
silent while relocalizing), slam/path (optimized keyframe poses; stamps identify keyframes),
slam/loop_closures (MarkerArray: accepted green, rejected red), slam/status (DiagnosticArray).
Service: slam/relocalize (std_srvs/Trigger): forget where the robot is and search the map.
Frames: T_base_camera from TF (/tf_static).
With map_path, the saved long-term map (read only) is loaded first and the session starts by
relocalizing in it.
"""

from __future__ import annotations

import bisect
import pathlib
from collections import deque
from typing import Any

import numpy as np

from astro_slam.backend.config import BackendConfig
from astro_slam.backend.core import MAPPING, BackendCore, KeyframeInput
from astro_slam.backend.place_model import load_place_model
from astro_slam.backend.verification import KeyframeView
from astro_slam.framework.component import (
    SENSOR,
    STATE,
    Component,
    Interface,
    Service,
    Subscription,
    Topic,
)
from astro_slam.msgs.camera import camera_info_to_model
from astro_slam.msgs.diagnostics import from_diagnostic_array, to_diagnostic_array
from astro_slam.msgs.errors import InvalidMessage
from astro_slam.msgs.keyframe import KeyframeCloud, from_keyframe_cloud
from astro_slam.msgs.markers import to_marker_array
from astro_slam.msgs.poses import (
    from_odometry,
    to_path,
    to_pose_with_covariance,
    to_tf_message,
)
from astro_slam.msgs.time import header_ns, stamp_to_ns
from astro_slam.transforms import to_quaternion
from astro_slam.types import DiagnosticStatus, Marker, Path, PoseEstimate, StampedTransform
from astro_slam.vo.prior import OdometryBuffer

_MAX_REJECTED_SHOWN = 200


def keyframe_view(cloud: KeyframeCloud, descriptor_size: int) -> KeyframeView:
    """What verification uses of a /vo/keyframe: its landmarks with finite points in front of
    the camera. Raises InvalidMessage when the descriptors do not fit the vocabulary."""
    descriptors = cloud.descriptors
    if descriptors.dtype != np.uint8 or descriptors.shape[1:] != (descriptor_size,):
        raise InvalidMessage(
            f'keyframe descriptors are {descriptors.shape[1:]} {descriptors.dtype}; '
            f'the vocabulary needs {descriptor_size} uint8'
        )
    xyz, xy = cloud.points_c, cloud.xy
    good = np.all(np.isfinite(xyz), axis=1) & np.all(np.isfinite(xy), axis=1) & (xyz[:, 2] > 0)
    ids = cloud.ids[good] if cloud.ids is not None else None
    return KeyframeView(xyz[good], xy[good], descriptors[good], ids)


class Backend(Component):
    """Hosts BackendCore; see the module docstring."""

    node_name = 'backend'
    Config = BackendConfig

    KEYFRAME = Topic('vo/keyframe', 'sensor_msgs/msg/PointCloud2', STATE)
    RELOCALIZE = Topic('fusion/relocalize', 'std_msgs/msg/Header', STATE)
    RELIABILITY = Topic('fusion/reliability', 'diagnostic_msgs/msg/DiagnosticArray', STATE)
    TF = Topic('/tf', 'tf2_msgs/msg/TFMessage', STATE)
    POSE = Topic('slam/pose', 'geometry_msgs/msg/PoseWithCovarianceStamped', STATE)
    PATH = Topic('slam/path', 'nav_msgs/msg/Path', STATE)
    LOOPS = Topic('slam/loop_closures', 'visualization_msgs/msg/MarkerArray', STATE)
    STATUS = Topic('slam/status', 'diagnostic_msgs/msg/DiagnosticArray', STATE)

    def __init__(self, config: BackendConfig, io: Any) -> None:
        super().__init__(config, io)
        self.core = BackendCore(config, load_place_model(config.vocabulary, config.features))
        self.odometry = OdometryBuffer(horizon_s=5.0, max_extrapolation_s=0.2)
        self.odom_covariances: deque[tuple[int, np.ndarray]] = deque(maxlen=500)
        self.next_output_ns = 0
        self.next_path_ns = 0
        self.path_due: int | None = None  # stamp of a keyframe not yet in a published path
        self.counts = {'keyframes': 0, 'no_odometry': 0, 'no_extrinsics': 0, 'published': 0}
        self.map_error = ''
        self.map_places = 0
        if config.map_path:
            self._load_map(pathlib.Path(config.map_path))

    def _load_map(self, path: pathlib.Path) -> None:
        """The saved map's places, to relocalize in; a missing file means a first session."""
        from astro_mapping.places import map_places
        from astro_mapping.store import MapFileError, load

        if not path.exists():
            self.io.logger.info('no map at %s yet: mapping from scratch', path)
            return
        try:
            m = load(path, readonly=True, features=self.config.features)
            places = map_places(m, self.core.vocabulary)
        except MapFileError as err:
            self.map_error = f'{err}; mapping from scratch'
            self.io.logger.error(self.map_error)
            return
        self.core.load_map(places)
        self.map_places = len(places)
        self.io.logger.info('%d places of %s loaded: relocalizing', len(places), path)

    def interface(self) -> Interface:
        c = self.config
        subs = (
            Subscription(self.KEYFRAME, 'on_keyframe'),
            Subscription(Topic(c.odometry_topic, 'nav_msgs/msg/Odometry', STATE), 'on_odometry'),
            Subscription(
                Topic(c.camera_info_topic, 'sensor_msgs/msg/CameraInfo', SENSOR),
                'on_camera_info',
                False,
            ),
            Subscription(self.RELOCALIZE, 'on_relocalize', False),
            Subscription(self.RELIABILITY, 'on_reliability', False),
        )
        pubs = (self.TF, self.POSE, self.PATH, self.LOOPS, self.STATUS)
        return Interface(
            subscriptions=subs,
            publications=pubs,
            services=(Service('slam/relocalize', 'on_relocalize_service'),),
        )

    # -- inputs ----------------------------------------------------------------------------

    def on_camera_info(self, msg: Any) -> None:
        self.core.K = camera_info_to_model(msg).projection[:, :3].copy()

    def on_odometry(self, msg: Any) -> None:
        odom = from_odometry(msg)
        self.odometry.add(odom.t_ns, odom.T, odom.twist)
        self.odom_covariances.append((odom.t_ns, odom.pose_covariance))
        if odom.t_ns >= self.next_output_ns:
            self.next_output_ns = odom.t_ns + int(1e9 / self.config.publish_rate_hz)
            self._publish_pose(odom.t_ns, odom.T, odom.pose_covariance)

    def on_relocalize(self, msg: Any) -> None:
        t_ns = stamp_to_ns(msg.stamp)  # a std_msgs/Header: its stamp is the put-down
        self.core.request_relocalization(t_ns)
        self._publish_status(t_ns)

    def on_relocalize_service(self) -> tuple[bool, str]:
        if not self.core.request_relocalization(self.io.now_ns()):
            return False, 'no keyframe in the map yet: nothing to relocalize against'
        self._publish_status(self.io.now_ns())
        return True, 'relocalizing: searching the map for the next keyframes'

    def on_reliability(self, msg: Any) -> None:
        for status in from_diagnostic_array(msg):
            if status.hardware_id == 'robot' and 'lifted' in status.values:
                lifted = status.values['lifted'] == 'true'
                if lifted != self.core.lifted:
                    self.core.set_lifted(header_ns(msg), lifted)
                    self._publish_status(header_ns(msg))

    def on_keyframe(self, msg: Any) -> None:
        t_ns = header_ns(msg)
        view = self._view(msg)
        T_odom_base = self.odometry.pose_at(t_ns)
        if T_odom_base is None:
            self.counts['no_odometry'] += 1
            return
        T_base_camera = self.io.lookup_transform(self.config.base_frame, msg.header.frame_id, 0)
        if T_base_camera is None:
            self.counts['no_extrinsics'] += 1
            return
        kf = KeyframeInput(t_ns, T_odom_base, self._covariance_at(t_ns), T_base_camera, view)
        events = self.core.add_keyframe(kf)
        self.counts['keyframes'] += 1
        self.path_due = t_ns
        if events:
            self._publish_loops(t_ns)
        if (events and any(e.accepted for e in events)) or t_ns >= self.next_path_ns:
            self.next_path_ns = t_ns + int(self.config.path_period_s * 1e9)
            self._publish_path(t_ns)
        self._publish_status(t_ns)

    def shutdown(self) -> None:
        """The path with the keyframes added since it was last published: replayed, the map
        server saves the session's last seconds with their poses."""
        if self.path_due is not None:
            self._publish_path(self.path_due)

    def _view(self, msg: Any) -> KeyframeView:
        return keyframe_view(from_keyframe_cloud(msg), self.core.vocabulary.descriptor_size)

    def _covariance_at(self, t_ns: int) -> np.ndarray:
        stamps = [t for t, _ in self.odom_covariances]
        i = max(bisect.bisect_right(stamps, t_ns) - 1, 0)
        return self.odom_covariances[i][1]

    # -- outputs ---------------------------------------------------------------------------

    def _publish_pose(self, t_ns: int, T_odom_base: np.ndarray, odom_cov: np.ndarray) -> None:
        core, c, factory = self.core, self.config, self.io.factory
        if core.state != MAPPING:
            return  # no map -> odom while lost: TF users see a stale transform, not a wrong one
        edge = StampedTransform(t_ns, c.map_frame, c.odom_frame, core.T_map_odom)
        self.io.publish(self.TF.name, to_tf_message(factory, [edge]))
        cov = core.pose_covariance(odom_cov)
        pose = PoseEstimate(t_ns, c.map_frame, core.T_map_odom @ T_odom_base, cov)
        self.io.publish(self.POSE.name, to_pose_with_covariance(factory, pose))
        self.counts['published'] += 1

    def _publish_path(self, t_ns: int) -> None:
        self.path_due = None
        frame = self.config.map_frame
        poses = [PoseEstimate(t, frame, T) for t, T in self.core.keyframe_poses()]
        self.io.publish(self.PATH.name, to_path(self.io.factory, Path(t_ns, frame, poses)))

    def _publish_loops(self, t_ns: int) -> None:
        core, frame = self.core, self.config.map_frame
        accepted = [e for e in core.loops if e.accepted]
        rejected = [e for e in core.loops if not e.accepted and e.query in core.graph]
        markers = []
        for i, (ns, events, rgba) in enumerate(
            (
                ('accepted', accepted, (0.1, 0.9, 0.2, 1.0)),
                ('rejected', rejected[-_MAX_REJECTED_SHOWN:], (0.9, 0.1, 0.1, 0.6)),
            )
        ):
            points = np.array(
                [core.position(i_) for e in events for i_ in (e.candidate, e.query)]
            ).reshape(-1, 3)
            markers.append(
                Marker(
                    t_ns,
                    frame,
                    ns,
                    i,
                    Marker.LINE_LIST,
                    scale=np.array([0.02, 0.0, 0.0]),
                    color=np.array(rgba),
                    points=points,
                )
            )
        self.io.publish(self.LOOPS.name, to_marker_array(self.io.factory, markers))

    def _publish_status(self, t_ns: int) -> None:
        core = self.core
        s = core.stats
        values = {
            'state': core.state,
            'keyframes': str(s.keyframes),
            'in_graph': str(len(core.graph.ids)),
            'loops_accepted': str(s.loops_accepted),
            'loops_rejected': str(s.loops_rejected),
            'verified': str(s.verified),
            'relocalizations': str(len(s.relocalizations)),
            'skipped_lifted': str(s.skipped_lifted),
            'skipped_before_break': str(s.skipped_before_break),
            'dropped_pending': str(s.dropped_pending),
        }
        if s.relocalizations:
            values['last_relocalization_s'] = f'{s.relocalizations[-1].seconds:.2f}'
        if core.ba_rms_px is not None:
            values['ba_rms_px'] = f'{core.ba_rms_px:.2f}'
        if core.K_refined is not None:
            K = core.K_refined
            values.update(
                {
                    k: f'{v:.2f}'
                    for k, v in zip(
                        ('fx', 'fy', 'cx', 'cy'), K[[0, 1, 0, 1], [0, 1, 2, 2]], strict=True
                    )
                }
            )
        values['map_places'] = str(self.map_places)
        level = DiagnosticStatus.OK if core.state == MAPPING else DiagnosticStatus.WARN
        message = core.state if core.K is not None else f'{core.state}; no camera_info: no loops'
        if self.map_error:
            level, message = DiagnosticStatus.ERROR, self.map_error
        status = DiagnosticStatus('backend', level, message, 'backend', values)
        self.io.publish(self.STATUS.name, to_diagnostic_array(self.io.factory, [status], t_ns))

    def diagnostics(self) -> dict[str, Any]:
        s = self.core.stats
        return {
            **self.counts,
            'state': self.core.state,
            'loops_accepted': s.loops_accepted,
            'loops_rejected': s.loops_rejected,
            'verified': s.verified,
            'skipped_lifted': s.skipped_lifted,
            'skipped_before_break': s.skipped_before_break,
            'relocalization_s': [r.seconds for r in s.relocalizations],
            'map_places': self.map_places,
            'map_error': self.map_error,
            # For scoring against ground truth: stamps of both keyframes and the measured
            # T_candidate_query (x, y, z, qx, qy, qz, qw).
            'loop_events': [
                {
                    'query_ns': self.core.records[e.query].kf.t_ns,
                    'candidate_ns': self.core.records[e.candidate].kf.t_ns,
                    'accepted': e.accepted,
                    'relocalization': e.relocalization,
                    'reason': e.reason,
                    'inliers': e.inliers,
                    'T': [*e.Z[:3, 3], *to_quaternion(e.Z)[1]] if e.Z is not None else None,
                }
                for e in self.core.loops
            ],
            'relocalizations': [
                {'requested_ns': r.requested_ns, 'found_ns': r.found_ns, 'keyframes': r.keyframes}
                for r in s.relocalizations
            ],
        }
