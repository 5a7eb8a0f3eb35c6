"""Windowed bundle adjustment: recent keyframe poses, the landmarks they share and, optionally,
the camera intrinsics as one shared variable.

Every observation is a pixel (a projection factor under a Huber kernel, so that a person who
walked through leaves no trace) and a range from stereo or depth (its noise grows as the square
of the depth, as stereo's does). The oldest keyframe of the window is held where the pose graph
has it (the gauge); consecutive keyframes keep a loose odometry factor so that a keyframe with
few shared landmarks stays put. With refine_intrinsics, fx, fy, cx and cy are one Cal3_S2
variable shared by every projection, with a weak prior from camera_info: a calibration a few
percent off is pulled to what the pixels and the metric odometry agree on. A robot on a floor
never pitches, so nothing in its images tells fy apart from the height of what it sees (stereo
ranges are far too noisy for it): fy follows fx at camera_info's aspect ratio. Stereo depth was
computed with camera_info's focal length (z = f b / d), so it is as wrong as the focal length;
the ranges are rescaled by the focal estimate and the adjustment repeated until it settles.

Camera poses here are T_map_camera (GTSAM's convention for projection factors).
"""

from __future__ import annotations

from dataclasses import dataclass

import gtsam
import numpy as np

from astro_slam.backend.pose_graph import to_gtsam_cov

_K_KEY = gtsam.symbol('k', 0)


def _x(i: int) -> int:
    return gtsam.symbol('c', i)


def _l(i: int) -> int:
    return gtsam.symbol('l', i)


@dataclass
class BAKeyframe:
    """A keyframe of the window: its initial camera pose and what it saw."""

    id: int
    T_map_cam: np.ndarray
    landmark_ids: np.ndarray  # (N,) ids from the VO, shared across keyframes
    xy: np.ndarray  # (N, 2) pixels
    points_c: np.ndarray  # (N, 3) in this camera (stereo or depth)


@dataclass(frozen=True)
class BAParams:
    pixel_sigma: float = 1.0
    huber_k: float = 1.345  # in sigmas
    depth_sigma_per_m2: float = 0.015  # stereo: sigma_z = z^2 sigma_d / (f b)
    depth_sigma_floor_m: float = 0.01
    min_observations: int = 2  # a landmark seen in fewer window keyframes is left out
    iterations: int = 10
    calibration_passes: int = 5  # refine_intrinsics: adjustments with rescaled ranges
    focal_prior_share: float = 0.05  # refine_intrinsics: prior sigma of fx, fy (share of f)
    center_prior_px: float = 10.0  # refine_intrinsics: prior sigma of cx, cy


@dataclass
class BAResult:
    T_map_cam: dict[int, np.ndarray]
    K: np.ndarray
    landmarks: int
    observations: int
    rms_px_before: float
    rms_px_after: float


def _cal(K: np.ndarray) -> gtsam.Cal3_S2:
    return gtsam.Cal3_S2(K[0, 0], K[1, 1], 0.0, K[0, 2], K[1, 2])


def _rms_px(graph: gtsam.NonlinearFactorGraph, values: gtsam.Values, count: int) -> float:
    """RMS reprojection error of the first `count` factors (the pixel ones), in pixels."""
    total = sum(float(np.sum(graph.at(i).unwhitenedError(values) ** 2)) for i in range(count))
    return float(np.sqrt(total / max(count, 1) / 2))


def bundle_adjust(
    window: list[BAKeyframe],
    K: np.ndarray,
    odometry: list[tuple[int, int, np.ndarray, np.ndarray]],
    params: BAParams,
    refine_intrinsics: bool = False,
) -> BAResult | None:
    """Adjusts the window (its first keyframe held fixed); None when nothing is shared.

    Args:
        K: the calibration the keyframes' 3D points were computed with (camera_info).
        odometry: (i, j, T_cam_i_cam_j, covariance ROS order) between window keyframes.
    """
    result = _adjust(window, K, K, odometry, params, refine_intrinsics)
    for _ in range(params.calibration_passes - 1 if refine_intrinsics else 0):
        if result is None:
            break
        result = _adjust(window, K, result.K, odometry, params, True)
    return result


def _adjust(
    window: list[BAKeyframe],
    K: np.ndarray,
    K_estimate: np.ndarray,
    odometry: list[tuple[int, int, np.ndarray, np.ndarray]],
    params: BAParams,
    refine_intrinsics: bool,
) -> BAResult | None:
    range_scale = K_estimate[0, 0] / K[0, 0]
    seen: dict[int, int] = {}
    for kf in window:
        for lid in np.unique(kf.landmark_ids):
            seen[int(lid)] = seen.get(int(lid), 0) + 1
    shared = {lid for lid, n in seen.items() if n >= params.min_observations}
    if not shared:
        return None
    graph = gtsam.NonlinearFactorGraph()
    values = gtsam.Values()
    pixel = gtsam.noiseModel.Robust.Create(
        gtsam.noiseModel.mEstimator.Huber.Create(params.huber_k),
        gtsam.noiseModel.Isotropic.Sigma(2, params.pixel_sigma),
    )
    cal = _cal(K)
    for kf in window:
        values.insert(_x(kf.id), gtsam.Pose3(kf.T_map_cam))
    ranges = []
    for kf in window:
        for lid, xy, p in zip(kf.landmark_ids, kf.xy, kf.points_c, strict=True):
            lid = int(lid)
            if lid not in shared:
                continue
            if not values.exists(_l(lid)):
                values.insert(_l(lid), kf.T_map_cam[:3, :3] @ p + kf.T_map_cam[:3, 3])
            measured = np.asarray(xy, float)
            if refine_intrinsics:
                graph.add(
                    gtsam.GeneralSFMFactor2Cal3_S2(measured, pixel, _x(kf.id), _l(lid), _K_KEY)
                )
            else:
                graph.add(
                    gtsam.GenericProjectionFactorCal3_S2(measured, pixel, _x(kf.id), _l(lid), cal)
                )
            ranges.append((kf.id, lid, range_scale * float(np.linalg.norm(p)), float(p[2])))
    observations = graph.size()
    for i, lid, r, z in ranges:
        sigma = max(params.depth_sigma_floor_m, params.depth_sigma_per_m2 * z * z)
        graph.add(
            gtsam.RangeFactor3D(_x(i), _l(lid), r, gtsam.noiseModel.Isotropic.Sigma(1, sigma))
        )
    first = window[0]
    graph.add(
        gtsam.PriorFactorPose3(
            _x(first.id), gtsam.Pose3(first.T_map_cam), gtsam.noiseModel.Isotropic.Sigma(6, 1e-6)
        )
    )
    for i, j, T_ij, cov in odometry:
        noise = gtsam.noiseModel.Gaussian.Covariance(to_gtsam_cov(cov))
        graph.add(gtsam.BetweenFactorPose3(_x(i), _x(j), gtsam.Pose3(T_ij), noise))
    if refine_intrinsics:
        values.insert(_K_KEY, _cal(K_estimate))
        f = params.focal_prior_share * K[0, 0]
        c = params.center_prior_px
        # fx, fy (held at the aspect ratio of the current fx), skew (held at 0), cx, cy.
        sigmas = np.array([f, 1e-3, 1e-6, c, c])
        prior = K.copy()
        prior[1, 1] = K_estimate[0, 0] * K[1, 1] / K[0, 0]
        graph.add(
            gtsam.PriorFactorCal3_S2(_K_KEY, _cal(prior), gtsam.noiseModel.Diagonal.Sigmas(sigmas))
        )
    before = _rms_px(graph, values, observations)
    lm = gtsam.LevenbergMarquardtParams()
    lm.setMaxIterations(params.iterations)
    result = gtsam.LevenbergMarquardtOptimizer(graph, values, lm).optimize()
    K_out = result.atCal3_S2(_K_KEY).K() if refine_intrinsics else K.copy()
    return BAResult(
        {kf.id: result.atPose3(_x(kf.id)).matrix() for kf in window},
        K_out,
        len(shared),
        observations,
        before,
        _rms_px(graph, result, observations),
    )
