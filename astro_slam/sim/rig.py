"""The robot's sensor rig: frames, extrinsics and intrinsics, for stereo or RGB-D."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from astro_slam.msgs.camera import CameraModel
from astro_slam.sim.renderer import Intrinsics
from astro_slam.transforms import make_transform
from astro_slam.types import StampedTransform

# Optical frame (z forward, x right, y down) in a body-like frame (x forward, y left, z up).
R_LINK_OPTICAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


@dataclass(frozen=True)
class Rig:
    kind: str = 'stereo'  # stereo or rgbd
    intrinsics: Intrinsics = field(default_factory=Intrinsics)
    baseline_m: float = 0.08
    camera_xyz: tuple[float, float, float] = (0.12, 0.0, 0.45)  # camera_link in base_link
    imu_xyz: tuple[float, float, float] = (0.0, 0.0, 0.1)

    @property
    def names(self) -> tuple[str, ...]:
        return ('left', 'right') if self.kind == 'stereo' else ('color', 'depth')

    def optical_frame(self, name: str) -> str:
        return f'camera_{name}_optical_frame'

    def T_link_optical(self, name: str) -> np.ndarray:
        """The right camera sits baseline_m to the right (-y) of the left one."""
        offset = -self.baseline_m if name == 'right' else 0.0
        return make_transform(R_LINK_OPTICAL, np.array([0.0, offset, 0.0]))

    def T_base_optical(self, name: str) -> np.ndarray:
        return make_transform(t=np.array(self.camera_xyz)) @ self.T_link_optical(name)

    def static_transforms(self, t_ns: int) -> list[StampedTransform]:
        edges = [
            StampedTransform(
                t_ns, 'base_link', 'camera_link', make_transform(t=np.array(self.camera_xyz))
            ),
            StampedTransform(
                t_ns, 'base_link', 'imu_link', make_transform(t=np.array(self.imu_xyz))
            ),
        ]
        for name in self.names:
            if name != 'depth':  # RGB-D depth is registered to the colour camera
                edges.append(
                    StampedTransform(
                        t_ns, 'camera_link', self.optical_frame(name), self.T_link_optical(name)
                    )
                )
        return edges

    def camera_model(self, name: str) -> CameraModel:
        k = self.intrinsics
        frame = self.optical_frame('color' if name == 'depth' else name)
        P = np.hstack([k.K, np.zeros((3, 1))])
        if name == 'right':
            P[0, 3] = -k.fx * self.baseline_m
        return CameraModel(k.width, k.height, k.K, np.zeros(5), np.eye(3), P, 'plumb_bob', frame)
