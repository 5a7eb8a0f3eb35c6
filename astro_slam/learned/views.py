"""Views of simulated homes for learning and judging features: the same place under other
light, from a nearby pose, with exact pixel correspondences from the rendered depth.

Needs the simulator extra (`pip install ".[sim]"`). Used by the training script and by
benchmarks/learned_features.py (on homes the training never saw).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from astro_slam.sim.camera_model import CameraSensor
from astro_slam.sim.home import Home
from astro_slam.sim.patrol import FloorGrid
from astro_slam.sim.renderer import Lighting, Renderer
from astro_slam.sim.rig import Rig
from astro_slam.transforms import inverse, make_transform

# Light conditions, from bright to black; dimming scales every source but the infrared one.
LIGHTS = ('day', 'evening', 'dim', 'near-dark', 'night-ir')


def lighting(home: Home, name: str, rng: np.random.Generator) -> Lighting:
    """One of LIGHTS for this home; which ceiling lights are on is drawn from rng."""
    n = len(home.rooms)
    on = rng.random(n) < 0.5
    if name == 'day':
        return Lighting(on * 1.1, np.full(n, 0.3), sky=2.8)
    if name == 'evening':
        return Lighting(np.full(n, 1.1) * (rng.random(n) < 0.8), np.zeros(n), sky=0.3, dimming=0.6)
    if name == 'dim':
        return Lighting(np.full(n, 1.1), np.zeros(n), sky=0.3, dimming=0.25)
    if name == 'near-dark':
        return Lighting(np.full(n, 1.1), np.zeros(n), sky=0.3, dimming=0.01)
    if name == 'night-ir':
        return Lighting(np.zeros(n), np.zeros(n), sky=0.0, ir_power=0.6, dimming=0.0)
    raise ValueError(f'unknown light {name!r}; one of {LIGHTS}')


@dataclass
class View:
    """One grey image with its depth (metres, inf where nothing) and camera pose."""

    gray: np.ndarray  # (H, W) uint8
    depth: np.ndarray  # (H, W) float32
    T_map_cam: np.ndarray  # (4, 4) optical frame in the map
    light: str
    right: np.ndarray | None = None  # (H, W) uint8: the right camera's image, when asked for


class ViewRenderer:
    """Renders views of one home as the robot's left camera sees them (auto-exposed, noisy)."""

    def __init__(self, home: Home, rig: Rig | None = None, seed: int = 0) -> None:
        self.home = home
        self.rig = rig or Rig()
        self.renderer = Renderer(home, self.rig.intrinsics)
        self.seed = seed
        self.frames = 0

    @property
    def K(self) -> np.ndarray:
        return self.rig.intrinsics.K

    def render(
        self, T_map_cam: np.ndarray, light: Lighting, name: str, stereo: bool = False
    ) -> View:
        """The left camera's view; with stereo, also the right camera's, exposed alike."""
        radiance, depth = self.renderer.render(T_map_cam, light)
        # A fresh sensor settles its auto-exposure on this view, as a robot standing there would.
        sensor = CameraSensor(seed=self.seed * 7919 + self.frames)
        for _ in range(8):
            sensor.adapt(sensor.capture(radiance, self.frames))
        image = sensor.capture(radiance, self.frames)
        right = None
        if stereo:
            T_left_right = inverse(self.rig.T_link_optical('left')) @ self.rig.T_link_optical(
                'right'
            )
            right_radiance, _ = self.renderer.render(
                T_map_cam @ T_left_right, light, want_depth=False
            )
            right = cv2.cvtColor(
                sensor.capture(right_radiance, self.frames, camera=1), cv2.COLOR_BGR2GRAY
            )
        self.frames += 1
        return View(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), depth, T_map_cam, name, right)

    def set_home(self, home: Home) -> None:
        """The same home after changes (furniture moved, objects dropped)."""
        self.home = home
        self.renderer.set_boxes(home.boxes)

    def release(self) -> None:
        self.renderer.release()


def camera_pose(rig: Rig, x: float, y: float, yaw: float) -> np.ndarray:
    """The left optical frame of a robot standing at (x, y, yaw) on the floor."""
    c, s = np.cos(yaw), np.sin(yaw)
    T_map_base = make_transform(
        np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]), np.array([x, y, 0.0])
    )
    return T_map_base @ rig.T_base_optical('left')


def robot_poses(home: Home, rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 3) x, y, yaw where the robot can stand, uniform over the free floor."""
    grid = FloorGrid(home)
    free = np.argwhere(~grid.blocked)
    cells = free[rng.choice(len(free), count)]
    xy = np.array([grid.point((int(r), int(c))) for r, c in cells])
    return np.column_stack([xy, rng.uniform(-np.pi, np.pi, count)])


def nearby(home: Home, pose: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A pose up to 0.3 m and 20 degrees from `pose` where the robot can stand too."""
    grid = FloorGrid(home)
    for _ in range(20):
        step = pose + np.array([*rng.uniform(-0.3, 0.3, 2), rng.uniform(-0.35, 0.35)])
        r, c = grid.cell(step[:2])
        if 0 <= r < grid.shape[0] and 0 <= c < grid.shape[1] and not grid.blocked[r, c]:
            return step
    return pose.copy()


def correspondences(
    a: View, b: View, K: np.ndarray, xy_a: np.ndarray, depth_tolerance: float = 0.03
) -> tuple[np.ndarray, np.ndarray]:
    """Where pixels xy_a (N, 2) of view a appear in view b, and whether they are visible there:
    inside the image, with a depth in a, and not hidden in b (b's depth agrees within 3 %)."""
    h, w = a.depth.shape
    u = np.clip(np.round(xy_a[:, 0]).astype(int), 0, w - 1)
    v = np.clip(np.round(xy_a[:, 1]).astype(int), 0, h - 1)
    z = a.depth[v, u].astype(np.float64)
    ok = np.isfinite(z) & (z > 0.05)
    z = np.where(ok, z, 1.0)
    rays = np.linalg.solve(K, np.vstack([xy_a.T, np.ones(len(xy_a))]))
    points_a = rays * z
    T_b_a = np.linalg.inv(b.T_map_cam) @ a.T_map_cam
    points_b = T_b_a[:3, :3] @ points_a + T_b_a[:3, 3:4]
    ok &= points_b[2] > 0.05
    projected = (K @ points_b)[:2] / np.where(ok, points_b[2], 1.0)
    xy_b = projected.T
    inside = (xy_b[:, 0] >= 0) & (xy_b[:, 0] <= w - 1) & (xy_b[:, 1] >= 0) & (xy_b[:, 1] <= h - 1)
    ok &= inside
    ub = np.clip(np.round(xy_b[:, 0]).astype(int), 0, w - 1)
    vb = np.clip(np.round(xy_b[:, 1]).astype(int), 0, h - 1)
    seen = b.depth[vb, ub]
    ok &= np.abs(seen - points_b[2]) < depth_tolerance * points_b[2]
    return xy_b.astype(np.float32), ok


def view_pairs(
    home: Home,
    count: int,
    seed: int,
    lights: tuple[str, str] | None = None,
    changed: Home | None = None,
) -> Iterator[tuple[View, View]]:
    """Pairs of views of one place: the first under one light, the second from a nearby pose
    under another (both drawn from LIGHTS unless `lights` names them), of the `changed` home
    when given (moved furniture). A place whose first view faces something nearer than 0.6 m
    (a wall at the camera's nose) is skipped."""
    rng = np.random.default_rng([seed, 0x71E5])
    views = ViewRenderer(home, seed=seed)
    try:
        made = 0
        for pose in robot_poses(home, rng, count * 4):
            if made == count:
                break
            names = lights or tuple(rng.choice(LIGHTS, 2, replace=False))
            T_a = camera_pose(views.rig, *pose)
            T_b = camera_pose(views.rig, *nearby(home, pose, rng))
            if changed is not None:
                views.set_home(home)
            a = views.render(T_a, lighting(home, names[0], rng), names[0])
            if float(np.median(a.depth[np.isfinite(a.depth)])) < 0.6:
                continue
            if changed is not None:
                views.set_home(changed)
            b = views.render(T_b, lighting(home, names[1], rng), names[1])
            made += 1
            yield a, b
    finally:
        views.release()
