"""Visual odometry component: images in; /vo/odometry, /vo/keyframe and /vo/status out.

Subscribes (names relative to the node namespace, remappable):
  stereo: camera/left/image_raw, camera/right/image_raw (+ /compressed), camera/{left,right}/
          camera_info; rgbd: camera/color/image_raw (+ /compressed), camera/depth/image_rect_raw
          (+ /compressedDepth), camera/color/camera_info; and the motion prior odometry.
Publishes: vo/odometry (pose of base_frame in odom_frame), vo/keyframe (PointCloud2: x, y, z in
the camera frame, u, v, id, descriptor), vo/status (DiagnosticArray).
Frames: the camera extrinsics T_base_camera come from TF (/tf_static).
"""

from __future__ import annotations

import functools
import time
from typing import Any

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from astro_slam.framework.component import (
    SENSOR,
    STATE,
    Component,
    Interface,
    Subscription,
    SyncedSubscription,
    Topic,
)
from astro_slam.msgs.camera import camera_info_to_model
from astro_slam.msgs.diagnostics import to_diagnostic_array
from astro_slam.msgs.errors import InvalidMessage
from astro_slam.msgs.keyframe import to_keyframe_cloud
from astro_slam.msgs.poses import from_odometry, to_odometry
from astro_slam.msgs.time import header_ns
from astro_slam.transforms import inverse
from astro_slam.types import DiagnosticStatus, OdometryEstimate
from astro_slam.vo.association import StereoDepth, depth_at_pixels, depth_points
from astro_slam.vo.camera_input import Rectifier, to_depth_m, to_gray
from astro_slam.vo.config import VisualOdometryConfig
from astro_slam.vo.features import Features, make_extractor
from astro_slam.vo.prior import OdometryBuffer
from astro_slam.vo.tracker import LOST, TRACKING, Frame, Keyframe, Tracker, TrackResult

_LEVELS = {
    TRACKING: DiagnosticStatus.OK,
    'initialised': DiagnosticStatus.WARN,
    LOST: DiagnosticStatus.ERROR,
}


def _image_topic(base: str, transport: str, depth: bool = False) -> Topic:
    if transport == 'raw':
        return Topic(base, 'sensor_msgs/msg/Image', SENSOR)
    suffix = 'compressedDepth' if depth else 'compressed'
    return Topic(f'{base}/{suffix}', 'sensor_msgs/msg/CompressedImage', SENSOR)


class VisualOdometry(Component):
    """Hosts the Tracker; see the module docstring."""

    node_name = 'visual_odometry'
    Config = VisualOdometryConfig

    ODOMETRY = Topic('vo/odometry', 'nav_msgs/msg/Odometry', STATE)
    KEYFRAME = Topic('vo/keyframe', 'sensor_msgs/msg/PointCloud2', STATE)
    STATUS = Topic('vo/status', 'diagnostic_msgs/msg/DiagnosticArray', STATE)

    def __init__(self, config: VisualOdometryConfig, io: Any) -> None:
        super().__init__(config, io)
        self.extractor = make_extractor(
            config.features, config.max_features, config.feature_model, config.learned_input_scale
        )
        self.tracker = Tracker(config, self.extractor)
        self.rectifiers: dict[str, Rectifier] = {}
        self.prior = OdometryBuffer()
        self.stereo: StereoDepth | None = None
        self.last_published: tuple[int, np.ndarray] | None = None
        self.camera_frame = ''  # of the last image tracked
        self.counts = {
            'frames': 0,
            'published': 0,
            'keyframes': 0,
            'no_camera_info': 0,
            'no_extrinsics': 0,
        }
        self.latency_ms: list[float] = []

    def interface(self) -> Interface:
        c = self.config
        if c.rig == 'stereo':
            images = (
                _image_topic('camera/left/image_raw', c.image_transport),
                _image_topic('camera/right/image_raw', c.image_transport),
            )
            infos = (
                ('camera/left/camera_info', 'on_left_info'),
                ('camera/right/camera_info', 'on_right_info'),
            )
            callback = 'on_stereo'
        else:
            images = (
                _image_topic('camera/color/image_raw', c.image_transport),
                _image_topic('camera/depth/image_rect_raw', c.image_transport, depth=True),
            )
            infos = (('camera/color/camera_info', 'on_left_info'),)
            callback = 'on_rgbd'
        subs = [
            Subscription(Topic(name, 'sensor_msgs/msg/CameraInfo', SENSOR), cb, False)
            for name, cb in infos
        ]
        if c.prior_odometry_topic:
            subs.append(
                Subscription(
                    Topic(c.prior_odometry_topic, 'nav_msgs/msg/Odometry', STATE), 'on_prior'
                )
            )
        return Interface(
            subscriptions=tuple(subs),
            synced=(SyncedSubscription(images, callback, queue_size=5, slop_s=0.005),),
            publications=(self.ODOMETRY, self.KEYFRAME, self.STATUS),
        )

    # -- inputs ----------------------------------------------------------------------------

    def on_left_info(self, msg: Any) -> None:
        self._set_camera('left', msg)

    def on_right_info(self, msg: Any) -> None:
        self._set_camera('right', msg)

    def _set_camera(self, side: str, msg: Any) -> None:
        model = camera_info_to_model(msg)
        current = self.rectifiers.get(side)
        if current is None or not _same_model(current.model, model):
            self.rectifiers[side] = Rectifier(model)

    def on_prior(self, msg: Any) -> None:
        odom = from_odometry(msg)
        self.prior.add(odom.t_ns, odom.T, odom.twist)

    def on_stereo(self, left_msg: Any, right_msg: Any) -> None:
        start = time.process_time()
        left_rect, right_rect = self._cameras('left', 'right')
        baseline = right_rect.model.baseline_m
        if baseline <= 0:
            raise InvalidMessage('right camera_info has no baseline (P[0,3] must be -fx * B)')
        stereo = self._stereo_depth(left_rect.K[0, 0] * baseline)

        # Decoded before tracking, so that a corrupt right image drops the frame before the
        # tracker's state changes; normalised only in frames that need depth.
        right_raw = right_rect(to_gray(right_msg))

        @functools.cache
        def right_gray() -> np.ndarray:
            return self.tracker.normalise(right_raw)

        def depth_of(features: Features, gray: np.ndarray) -> np.ndarray:
            return stereo(gray, right_gray(), features, left_rect.K)

        def depth_at(xy: np.ndarray, expected: np.ndarray, gray: np.ndarray) -> np.ndarray:
            return stereo.at(gray, right_gray(), xy, expected)

        noise = self.config.stereo_disparity_sigma_px / stereo.focal_baseline
        self._process(left_msg, left_rect, depth_of, noise, depth_at, start, stereo=True)

    def on_rgbd(self, color_msg: Any, depth_msg: Any) -> None:
        start = time.process_time()
        (rect,) = self._cameras('left')
        c = self.config

        depth_m = rect(to_depth_m(depth_msg), cv2.INTER_NEAREST)  # before tracking, as stereo

        def depth_of(features: Features, gray: np.ndarray) -> np.ndarray:
            return depth_points(depth_m, features, rect.K, c.min_depth_m, c.max_depth_m)

        def depth_at(xy: np.ndarray, expected: np.ndarray, gray: np.ndarray) -> np.ndarray:
            return depth_at_pixels(depth_m, xy, c.min_depth_m, c.max_depth_m)

        self._process(color_msg, rect, depth_of, c.rgbd_depth_noise, depth_at, start)

    def _stereo_depth(self, focal_baseline: float) -> StereoDepth:
        """The stereo matcher, rebuilt only when the calibration changes."""
        if self.stereo is None or self.stereo.focal_baseline != focal_baseline:
            c = self.config
            self.stereo = StereoDepth(
                focal_baseline,
                c.min_depth_m,
                c.max_depth_m,
                c.stereo_smoothing_px,
                c.stereo_matcher,
                c.stereo_window_sigma_px,
            )
        return self.stereo

    def _cameras(self, *sides: str) -> list[Rectifier]:
        missing = [s for s in sides if s not in self.rectifiers]
        if missing:
            self.counts['no_camera_info'] += 1
            raise InvalidMessage(f'no camera_info yet for {", ".join(missing)}')
        return [self.rectifiers[s] for s in sides]

    # -- tracking and outputs --------------------------------------------------------------

    def _process(
        self,
        msg: Any,
        rect: Rectifier,
        depth_of: Any,
        depth_noise: float,
        depth_at: Any,
        start: float,
        stereo: bool = False,
    ) -> None:
        """Tracks one image; start is the CPU time when its callback began (latency)."""
        t_ns = header_ns(msg)
        camera_frame = str(msg.header.frame_id) or rect.model.frame_id
        T_bc = self.io.lookup_transform(self.config.base_frame, camera_frame, 0)
        if T_bc is None:
            self.counts['no_extrinsics'] += 1
            reason = f'no TF {self.config.base_frame} <- {camera_frame}'
            self._publish_status(TrackResult(t_ns, LOST, reason))
            return
        frame = Frame(t_ns, rect(to_gray(msg)), rect.K, depth_of, depth_noise, depth_at, stereo)
        self.counts['frames'] += 1
        result = self.tracker.process(frame, T_bc, self.prior.pose_at(t_ns))
        result.stats['latency_ms'] = (time.process_time() - start) * 1e3
        self.latency_ms.append(result.stats['latency_ms'])
        if result.T_wb is not None:
            self._publish_odometry(result)
        else:
            self.last_published = None
        for keyframe in result.keyframes:
            self._publish_keyframe(keyframe, camera_frame)
        self.camera_frame = camera_frame
        self._publish_status(result)

    def shutdown(self) -> None:
        """The keyframes of the last second, which had not finished their checks: replayed,
        the backend and the map server still take them in before they save."""
        for keyframe in self.tracker.flush():
            self._publish_keyframe(keyframe, self.camera_frame)

    def _publish_odometry(self, result: TrackResult) -> None:
        assert result.T_wb is not None and result.covariance is not None
        twist = np.zeros(6)
        twist_cov = np.eye(6) * 1e3  # unknown without a previous pose
        if self.last_published is not None and result.state == TRACKING:
            t0, T0 = self.last_published
            dt = (result.t_ns - t0) * 1e-9
            if dt > 0:
                delta = inverse(T0) @ result.T_wb
                twist = np.r_[delta[:3, 3], Rotation.from_matrix(delta[:3, :3]).as_rotvec()] / dt
                twist_cov = 2.0 * result.covariance / dt**2
        odom = OdometryEstimate(
            result.t_ns,
            self.config.odom_frame,
            self.config.base_frame,
            result.T_wb,
            result.covariance,
            twist,
            twist_cov,
        )
        self.io.publish(self.ODOMETRY.name, to_odometry(self.io.factory, odom))
        self.last_published = (result.t_ns, result.T_wb)
        self.counts['published'] += 1

    def _publish_keyframe(self, kf: Keyframe, camera_frame: str) -> None:
        cloud = to_keyframe_cloud(
            self.io.factory, kf.t_ns, camera_frame, kf.points_c, kf.xy, kf.ids, kf.descriptors
        )
        self.io.publish(self.KEYFRAME.name, cloud)
        self.counts['keyframes'] += 1

    def _publish_status(self, result: TrackResult) -> None:
        values = {'state': result.state, 'reason': result.reason}
        if result.quality is not None:
            q = result.quality
            values.update(
                brightness=f'{q.brightness:.1f}',
                contrast=f'{q.contrast:.1f}',
                sharpness=f'{q.sharpness:.3f}',
                noise=f'{q.noise:.1f}',
            )
        values.update(
            {k: f'{v:.3g}' if isinstance(v, float) else str(v) for k, v in result.stats.items()}
        )
        message = result.state + (f': {result.reason}' if result.reason else '')
        status = DiagnosticStatus(
            'visual_odometry', _LEVELS[result.state], message, self.config.rig, values
        )
        self.io.publish(
            self.STATUS.name, to_diagnostic_array(self.io.factory, [status], result.t_ns)
        )

    def diagnostics(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.counts)
        out['resets'] = self.tracker.resets
        out['bridges'] = self.tracker.bridges
        out['moving_landmarks_rejected'] = self.tracker.map.removed_moving
        if self.latency_ms:
            out['median_latency_ms'] = round(float(np.median(self.latency_ms)), 2)
        return out


def _same_model(a: Any, b: Any) -> bool:
    return (a.width, a.height) == (b.width, b.height) and all(
        np.array_equal(x, y)
        for x, y in ((a.K, b.K), (a.D, b.D), (a.R, b.R), (a.projection, b.projection))
    )
