"""Windowed bundle adjustment on a synthetic camera: it keeps a window consistent, and with
intrinsics refinement it recovers a calibration that camera_info gives 2 % off."""

from __future__ import annotations

import numpy as np
import pytest

from astro_slam.backend.bundle_adjustment import BAKeyframe, BAParams, bundle_adjust
from astro_slam.transforms import inverse, make_transform

K_TRUE = np.array([[460.0, 0, 320.0], [0, 455.0, 240.0], [0, 0, 1]])


def _look(x: float, y: float, yaw: float) -> np.ndarray:
    """Camera (z forward) at (x, y, 1) in a z-up world, looking along yaw."""
    forward = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    right = np.array([np.sin(yaw), -np.cos(yaw), 0.0])
    R = np.c_[right, [0, 0, -1.0], forward]
    return make_transform(R, [x, y, 1.0])


def _window(rng, K_used: np.ndarray, n_keyframes: int = 12):
    """Keyframes of a robot that drives 2 m and looks left and right on the way (turning
    shows the focal length), facing a textured scene; pixels made by the true camera, 3D
    points triangulated as stereo with the calibration in use would (depth scales with f)."""
    points = np.c_[rng.uniform(2, 7, 1500), rng.uniform(-4, 4, 1500), rng.uniform(0, 2.2, 1500)]
    truth = [_look(0.5 * (i // 3), 0.2 * (i // 3), (i % 3 - 1) * 0.5) for i in range(n_keyframes)]
    window = []
    for i, T in enumerate(truth):
        pc = points @ inverse(T)[:3, :3].T + inverse(T)[:3, 3]
        uv = pc[:, :2] / pc[:, 2:] * K_TRUE[[0, 1], [0, 1]] + K_TRUE[:2, 2]
        seen = (pc[:, 2] > 0.5) & np.all((uv > 0) & (uv < [640, 480]), axis=1)
        ids = np.flatnonzero(seen)
        xy = uv[ids] + rng.normal(0, 0.5, (len(ids), 2))
        z = pc[ids, 2] * K_used[0, 0] / K_TRUE[0, 0] + rng.normal(0, 0.01, len(ids))
        rays = np.c_[(xy - K_used[:2, 2]) / K_used[[0, 1], [0, 1]], np.ones(len(ids))]
        window.append(BAKeyframe(i, T.copy(), ids, xy, rays * z[:, None]))
    odometry = [
        (i, i + 1, inverse(truth[i]) @ truth[i + 1], np.diag([1e-4] * 3 + [1e-5] * 3))
        for i in range(n_keyframes - 1)
    ]
    # Start the poses off their truth, as the pose graph would hand them over.
    for kf in window[1:]:
        kf.T_map_cam[:3, 3] += rng.normal(0, 0.03, 3)
    return window, odometry, truth


def test_intrinsics_two_percent_off_are_recovered():
    rng = np.random.default_rng(0)
    K_wrong = K_TRUE.copy()
    K_wrong[0, 0] *= 1.02
    K_wrong[1, 1] *= 1.02
    K_wrong[0, 2] *= 1.02
    K_wrong[1, 2] *= 0.98
    window, odometry, _ = _window(rng, K_wrong)
    fixed = bundle_adjust(window, K_wrong, odometry, BAParams())
    refined = bundle_adjust(window, K_wrong, odometry, BAParams(), refine_intrinsics=True)
    assert fixed is not None and refined is not None
    K = refined.K
    assert abs(K[0, 0] / K_TRUE[0, 0] - 1) < 0.004
    assert abs(K[1, 1] / K_TRUE[1, 1] - 1) < 0.004
    assert abs(K[0, 2] - K_TRUE[0, 2]) < 2.0 and abs(K[1, 2] - K_TRUE[1, 2]) < 2.0
    assert refined.rms_px_after < fixed.rms_px_after


@pytest.mark.parametrize('refine', [False, True])
def test_window_poses_come_back_to_the_truth(refine):
    rng = np.random.default_rng(1)
    window, odometry, truth = _window(rng, K_TRUE)
    result = bundle_adjust(window, K_TRUE, odometry, BAParams(), refine_intrinsics=refine)
    assert result is not None
    for kf, T in zip(window, truth, strict=True):
        assert np.linalg.norm(result.T_map_cam[kf.id][:3, 3] - T[:3, 3]) < 0.01
    assert result.rms_px_after < result.rms_px_before
