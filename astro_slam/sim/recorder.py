"""Writes a planned session as a rosbag2 (mcap), rendering camera frames in time order.

Topics and types are those of docs/ARCHITECTURE.md. Colour images are JPEG CompressedImage on
`<camera>/image_raw/compressed`, RGB-D depth is `compressedDepth` PNG (16UC1, millimetres),
as image_transport records them on robots.
"""

from __future__ import annotations

import heapq
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from astro_slam.framework.component import LATCHED, SENSOR, STATE
from astro_slam.msgs.camera import model_to_camera_info
from astro_slam.msgs.factory import RosbagsFactory, default_factory
from astro_slam.msgs.imu import to_imu
from astro_slam.msgs.poses import to_odometry, to_tf_message
from astro_slam.sim.camera_model import CameraSensor
from astro_slam.sim.renderer import Renderer
from astro_slam.sim.sensors import ImuSpec
from astro_slam.sim.session import GROUND_TRUTH_HZ, SessionPlan
from astro_slam.tools.bag_io import BagWriter
from astro_slam.transforms import make_transform
from astro_slam.types import ImuSample, OdometryEstimate

JPEG_QUALITY = 85
Event = tuple[int, int, str, Any]  # log time ns, order, stream, payload


def _planar(x: float, y: float, yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return make_transform(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]), np.array([x, y, 0.0]))


class SessionRecorder:
    """Renders and writes one SessionPlan; `frames_written` and `bytes` report the result."""

    def __init__(self, plan: SessionPlan, factory: RosbagsFactory | None = None) -> None:
        self.plan = plan
        self.factory = factory or default_factory()
        self.jitter = np.random.default_rng([plan.labels['seed'], plan.labels['session_index'], 9])
        self.has_jitter = any(f['kind'] == 'jitter' for f in plan.labels['faults'])
        self.frames_written = 0
        self.samples: list[np.ndarray] = []  # a few frames for the montage

    def _stamp(self, t_s: float) -> int:
        t_ns = self.plan.t_ns(t_s)
        if self.has_jitter:
            t_ns += int(self.jitter.normal(0.0, 1.5e6))
        return t_ns

    def _events(self, cameras: bool) -> Iterator[Event]:
        p = self.plan
        streams: list[Iterator[Event]] = [
            ((p.t_ns(t) + 500_000, 1, 'imu', i) for i, t in enumerate(p.imu.t_s)),
            ((p.t_ns(t) + 1_000_000, 2, 'wheel', i) for i, t in enumerate(p.wheels.t_s)),
            (
                (p.t_ns(t), 3, 'truth', t)
                for t in np.arange(0, p.spec.duration_s, 1 / GROUND_TRUTH_HZ)
            ),
            ((p.t_ns(t) + 20_000_000, 4, 'camera', t) for t in p.frame_t_s if cameras),
            ((p.t_ns(t), 5, 'flags', t) for t in np.arange(0, p.spec.duration_s, 0.2)),
        ]
        return heapq.merge(*streams)

    def write(
        self,
        path: Path,
        progress: Callable[[float], None] | None = None,
        storage: str = 'mcap',
        cameras: bool = True,
    ) -> int:
        """Writes the bag at path; returns the number of messages.

        Args:
            cameras: False leaves the images out (fast bags of the other sensors, for tests).
        """
        p, f = self.plan, self.factory
        renderer = Renderer(p.home, p.rig.intrinsics) if cameras else None
        if renderer:
            renderer.preload([b for w in p.walkers for b in w.boxes(w.t0_s)])
        sensor = CameraSensor(seed=p.labels['seed'] * 1000 + p.labels['session_index'])
        count = 0
        try:
            with BagWriter(path, f, storage) as writer:
                writer.write(
                    '/tf_static',
                    to_tf_message(f, p.rig.static_transforms(p.t0_ns)),
                    p.t0_ns,
                    LATCHED,
                )
                for log_ns, _, stream, payload in self._events(cameras):
                    count += self._write_event(writer, renderer, sensor, log_ns, stream, payload)
                    if progress and stream == 'camera':
                        progress(float(payload))
        finally:
            if renderer:
                renderer.release()
        return count

    def _write_event(
        self,
        writer: BagWriter,
        renderer: Renderer,
        sensor: CameraSensor,
        log_ns: int,
        stream: str,
        payload: Any,
    ) -> int:
        if stream == 'imu':
            writer.write('/imu/data', self._imu(payload), log_ns, SENSOR)
        elif stream == 'wheel':
            writer.write('/wheel/odometry', self._wheel(payload), log_ns, SENSOR)
        elif stream == 'truth':
            truth = OdometryEstimate(
                self.plan.t_ns(payload), 'map', 'base_link', self.plan.T_map_base(payload)
            )
            writer.write('/ground_truth/odometry', to_odometry(self.factory, truth), log_ns, STATE)
        elif stream == 'flags':
            return self._flags(writer, log_ns, payload)
        else:
            return self._camera(writer, renderer, sensor, log_ns, payload)
        return 1

    def _imu(self, i: int) -> Any:
        imu, spec = self.plan.imu, ImuSpec()
        sample = ImuSample(
            self._stamp(float(imu.t_s[i])),
            'imu_link',
            imu.gyro[i],
            imu.accel[i],
            None,
            np.eye(3) * spec.gyro_noise_rad_s**2,
            np.eye(3) * spec.accel_noise_m_s2**2,
        )
        return to_imu(self.factory, sample)

    def _wheel(self, i: int) -> Any:
        w = self.plan.wheels
        x, y, yaw = w.pose[i]
        twist_cov = np.diag([1e-3, 1e-3, 1e6, 1e6, 1e6, 4e-3])  # planar: z, roll, pitch unknown
        odom = OdometryEstimate(
            self._stamp(float(w.t_s[i])),
            'odom',
            'base_link',
            _planar(x, y, yaw),
            twist_cov,
            np.array([w.twist[i, 0], 0, 0, 0, 0, w.twist[i, 1]]),
            twist_cov,
        )
        return to_odometry(self.factory, odom)

    def _flags(self, writer: BagWriter, log_ns: int, t_s: float) -> int:
        p = self.plan
        i = min(int(round(t_s * 1000)), len(p.motion) - 1)
        low = any(
            f['kind'] == 'low_power' and f['t0_ns'] <= p.t_ns(t_s) < f['t1_ns']
            for f in p.labels['faults']
        )
        writer.write(
            '/robot/wheel_drop',
            self.factory.make('std_msgs/msg/Bool', data=bool(p.motion.lifted[i])),
            log_ns,
            STATE,
        )
        writer.write(
            '/robot/low_power', self.factory.make('std_msgs/msg/Bool', data=low), log_ns, STATE
        )
        return 2

    def _camera(
        self, writer: BagWriter, renderer: Renderer, sensor: CameraSensor, log_ns: int, t_s: float
    ) -> int:
        p, f = self.plan, self.factory
        stamp = self._stamp(t_s)
        T_map_base = p.T_map_base(t_s)
        lighting = p.lights.at(t_s)
        dynamic = [b for w in p.walkers for b in w.boxes(t_s)]
        frame = int(round(t_s * 1000))
        images = {}
        for index, name in enumerate(n for n in p.rig.names if n != 'depth'):
            radiance, depth = renderer.render(
                T_map_base @ p.rig.T_base_optical(name),
                lighting,
                dynamic,
                want_depth=name == 'color',
            )
            images[name] = sensor.capture(radiance, frame, index)
            if name == 'color':
                images['depth'] = depth
        sensor.adapt(images['left' if 'left' in images else 'color'])
        count = 0
        for name in p.rig.names:
            model = p.rig.camera_model(name)
            info_topic = f'/camera/{name}/camera_info'
            writer.write(info_topic, model_to_camera_info(f, model, stamp), log_ns, SENSOR)
            if name == 'depth':
                msg = self._depth(images['depth'], stamp, model.frame_id)
                topic = '/camera/depth/image_rect_raw/compressedDepth'
            else:
                _, jpeg = cv2.imencode(
                    '.jpg', images[name], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
                )
                msg = f.make(
                    'sensor_msgs/msg/CompressedImage',
                    header=f.header(stamp, model.frame_id),
                    format='bgr8; jpeg compressed bgr8',
                    data=jpeg.reshape(-1),
                )
                topic = f'/camera/{name}/image_raw/compressed'
            writer.write(topic, msg, log_ns, SENSOR)
            count += 2
        self.frames_written += 1
        if self.frames_written % max(1, len(p.frame_t_s) // 8) == 1 and len(self.samples) < 8:
            self.samples.append(images['left' if 'left' in images else 'color'])
        return count

    def _depth(self, depth_m: np.ndarray, stamp: int, frame_id: str) -> Any:
        """Depth as an active stereo sensor measures it, sent as compressedDepth PNG (mm).

        Noise is in disparity (0.05 px) and disparity is quantised to 1/8 px, so the depth error
        grows with the square of the distance, as with real RGB-D cameras. The 12-byte header is
        image_transport's ConfigHeader (format PNG; quantisation unused for 16UC1).
        """
        focal_baseline = self.plan.rig.intrinsics.fx * 0.05  # f * B of the depth module
        rng = np.random.default_rng([self.plan.labels['seed'], stamp % (1 << 31)])
        with np.errstate(divide='ignore', invalid='ignore'):
            disparity = focal_baseline / depth_m
            disparity += rng.standard_normal(depth_m.shape, dtype=np.float32) * np.float32(0.05)
            disparity = np.round(disparity * 8.0) / 8.0
            measured = focal_baseline / disparity
        valid = np.isfinite(measured) & (depth_m > 0.2) & (depth_m < 5.0) & (disparity > 0)
        mm = np.where(valid, np.round(measured * 1000.0), 0).astype(np.uint16)
        _, png = cv2.imencode('.png', mm)
        data = np.frombuffer(struct.pack('<iff', 0, 0.0, 0.0), np.uint8)
        return self.factory.make(
            'sensor_msgs/msg/CompressedImage',
            header=self.factory.header(stamp, frame_id),
            format='16UC1; compressedDepth png',
            data=np.concatenate([data, png.reshape(-1)]),
        )
