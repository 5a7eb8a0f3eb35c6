"""Rendering and recording: depth geometry, determinism and what lands in the bag."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from astro_slam.msgs.camera import camera_info_to_model
from astro_slam.msgs.image import compressed_to_numpy
from astro_slam.sim.generate import generate_home
from astro_slam.sim.renderer import Intrinsics, Lighting, Renderer
from astro_slam.sim.rig import Rig
from astro_slam.sim.scenarios import SCENARIOS
from astro_slam.sim.simulate import override, simulate
from astro_slam.transforms import from_quaternion, inverse

pytest.importorskip('moderngl')


@pytest.fixture(scope='module')
def renderer():
    home = generate_home(3, n_rooms=3)
    r = Renderer(home, Intrinsics(320, 240, 230.0, 230.0, 159.5, 119.5))
    yield r
    r.release()


def _pose(home, dx: float, yaw: float) -> np.ndarray:
    x, y, _ = home.dock
    T_map_base = from_quaternion([x + dx, y, 0.0], [0, 0, np.sin(yaw / 2), np.cos(yaw / 2)])
    return T_map_base @ Rig().T_base_optical('left')


def _lit(home) -> Lighting:
    n = len(home.rooms)
    return Lighting(np.ones(n), np.full(n, 0.3))


def test_depth_reprojects_between_frames_within_half_a_pixel(renderer):
    home, k = renderer.home, renderer.intrinsics
    T_a, T_b = _pose(home, 0.0, 0.0), _pose(home, 0.3, 0.15)
    _, depth_a = renderer.render(T_a, _lit(home))
    _, depth_b = renderer.render(T_b, _lit(home))
    K = k.K
    v, u = np.mgrid[0 : k.height : 4, 0 : k.width : 4]
    z = depth_a[v, u]
    ok = np.isfinite(z) & (z < 8)
    rays = np.linalg.inv(K) @ np.stack([u[ok], v[ok], np.ones(ok.sum())])
    p_b = (inverse(T_b) @ T_a @ np.vstack([rays * z[ok], np.ones(ok.sum())]))[:3]
    uv_b = (K @ p_b)[:2] / p_b[2]
    inside = (
        (p_b[2] > 0.1)
        & (uv_b[0] > 1)
        & (uv_b[0] < k.width - 2)
        & (uv_b[1] > 1)
        & (uv_b[1] < k.height - 2)
    )
    # Back through frame B's depth: where B says the surface is, projected into A again.
    ub, vb = np.round(uv_b[:, inside]).astype(int)
    zb = depth_b[vb, ub]
    rays_b = np.linalg.inv(K) @ np.stack([ub, vb, np.ones(len(ub))])
    p_a = (inverse(T_a) @ T_b @ np.vstack([rays_b * zb, np.ones(len(ub))]))[:3]
    uv_a = (K @ p_a)[:2] / p_a[2]
    # Rounding to B's pixel grid moves a point by up to 0.5 px; compare with that removed.
    rounding = (
        K @ (inverse(T_a) @ T_b @ np.vstack([rays_b * (p_b[2, inside]), np.ones(len(ub))]))[:3]
    )
    expected = rounding[:2] / rounding[2]
    visible = np.abs(zb - p_b[2, inside]) < 0.05  # not occluded in B
    error = np.linalg.norm(uv_a[:, visible] - expected[:, visible], axis=0)
    assert visible.sum() > 1000
    assert np.median(error) < 0.5


def test_total_darkness_is_black_and_the_illuminator_lights_near_things(renderer):
    from astro_slam.sim.camera_model import CameraSensor

    home = renderer.home
    n = len(home.rooms)
    T = _pose(home, 0.0, 0.0)
    dark, _ = renderer.render(T, Lighting(np.zeros(n), np.zeros(n), sky=0.0, dimming=0.0))
    ir, depth = renderer.render(
        T, Lighting(np.zeros(n), np.zeros(n), sky=0.0, ir_power=0.6, dimming=0.0)
    )
    assert dark.max() < 1e-6
    sensor = CameraSensor()
    for frame in range(15):  # let auto-exposure settle
        image = sensor.capture(ir, frame)
        sensor.adapt(image)
    assert image.mean() > 30 and sensor.gain > 1.0  # usable, at a raised gain
    near, far = depth < 1.5, (depth > 3.0) & np.isfinite(depth)
    assert near.any() and far.any()
    assert ir[near].mean() > 4 * ir[far].mean()  # the cone falls off with distance


@pytest.fixture(scope='module')
def tiny_output(tmp_path_factory):
    out = tmp_path_factory.mktemp('sim')
    simulate(SCENARIOS['tiny'], 1, 2, out, progress=False)
    return out / 'tiny'


def test_bag_has_the_contract_topics_and_valid_images(tiny_output):
    with AnyReader([tiny_output / 'tiny']) as reader:
        topics = {c.topic: c.msgtype for c in reader.connections}
        assert topics['/camera/left/image_raw/compressed'] == 'sensor_msgs/msg/CompressedImage'
        assert topics['/wheel/odometry'] == 'nav_msgs/msg/Odometry'
        assert topics['/imu/data'] == 'sensor_msgs/msg/Imu'
        assert topics['/ground_truth/odometry'] == 'nav_msgs/msg/Odometry'
        assert {'/tf_static', '/camera/right/camera_info', '/robot/wheel_drop'} <= set(topics)
        right = [c for c in reader.connections if c.topic == '/camera/right/camera_info']
        _, _, raw = next(reader.messages(connections=right))
        model = camera_info_to_model(reader.deserialize(raw, right[0].msgtype))
        assert model.baseline_m == pytest.approx(0.08)
        left = [c for c in reader.connections if c.topic == '/camera/left/image_raw/compressed']
        images = [
            compressed_to_numpy(reader.deserialize(r, left[0].msgtype))
            for _, _, r in reader.messages(connections=left)
        ]
    assert len(images) == 40 and images[0].shape == (240, 320, 3)
    assert 40 < np.mean(images[-1]) < 200  # auto-exposure found a sensible level
    labels = json.loads((tiny_output / 'tiny.labels.json').read_text())
    assert labels['format'] == 'astro_slam.sim.labels/1' and labels['lighting']
    assert (tiny_output / 'tiny.floorplan.png').stat().st_size > 10_000
    assert (tiny_output / 'tiny.montage.png').stat().st_size > 10_000


def test_same_arguments_give_identical_bags(tiny_output, tmp_path):
    simulate(SCENARIOS['tiny'], 1, 2, tmp_path, progress=False)

    def digest(folder):
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
        }

    assert digest(tmp_path / 'tiny' / 'tiny') == digest(tiny_output / 'tiny')


def test_rgbd_depth_is_millimetres_matching_the_render(tmp_path):
    scenario = override(SCENARIOS['tiny'], rig='rgbd', duration_s=1.0)
    simulate(scenario, 1, 2, tmp_path, progress=False)
    with AnyReader([tmp_path / 'tiny' / 'tiny']) as reader:
        conns = [
            c
            for c in reader.connections
            if c.topic == '/camera/depth/image_rect_raw/compressedDepth'
        ]
        _, _, raw = next(reader.messages(connections=conns))
        msg = reader.deserialize(raw, conns[0].msgtype)
    depth_mm = compressed_to_numpy(msg)
    assert depth_mm.dtype == np.uint16 and depth_mm.shape == (240, 320)
    # The first frame is taken on the dock: render the truth there.
    home = generate_home(1, n_rooms=3)
    renderer = Renderer(home, Intrinsics(320, 240, 230.0, 230.0, 159.5, 119.5))
    x, y, yaw = home.dock
    T = from_quaternion([x, y, 0.0], [0, 0, np.sin(yaw / 2), np.cos(yaw / 2)])
    _, truth = renderer.render(T @ Rig().T_base_optical('color'), _lit(home))
    renderer.release()
    valid = depth_mm > 0
    assert valid.mean() > 0.8
    assert not valid[truth > 5.5].any() and not valid[truth < 0.19].any()
    error = np.abs(depth_mm[valid] / 1000.0 - truth[valid])
    # Stereo depth error grows with z^2: z^2 / (f B) * 0.05 px, about 0.4 % of z^2 here.
    assert np.median(error / truth[valid] ** 2) < 0.02
    assert np.median(error) > 0  # it is measured, not copied


def test_a_learning_view_s_right_image_gives_the_rendered_depth_by_stereo():
    from astro_slam.learned.views import ViewRenderer, camera_pose, lighting, robot_poses
    from astro_slam.vo.association import StereoDepth
    from astro_slam.vo.features import OrbExtractor

    home = generate_home(5, n_rooms=3)
    rng = np.random.default_rng(0)
    views = ViewRenderer(home, seed=5)
    try:
        pose = robot_poses(home, rng, 1)[0]
        view = views.render(camera_pose(views.rig, *pose), lighting(home, 'day', rng), 'day', True)
    finally:
        views.release()
    assert view.right is not None and view.right.shape == view.gray.shape
    features = OrbExtractor(800).extract(view.gray)
    stereo = StereoDepth(views.K[0, 0] * views.rig.baseline_m, 0.4, 8.0)
    points = stereo(view.gray, view.right, features, views.K)
    has = np.isfinite(points[:, 2])
    assert has.sum() > 50
    u, v = np.round(features.xy[has]).astype(int).T
    rendered = view.depth[v, u]
    # Silhouette keypoints may take the other side's depth; most must agree.
    assert np.mean(np.abs(points[has, 2] - rendered) < 0.05 * rendered) > 0.8
