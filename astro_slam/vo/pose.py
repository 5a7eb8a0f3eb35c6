"""Camera pose from 2D-3D matches: PnP RANSAC, then a robust motion-only refinement whose
information matrix gives the covariance.

Poses are T_cw (world to camera). The refinement perturbs on the left, T_cw <- exp(d) T_cw with
d = (v, w) in the camera frame, translation first (the ROS covariance order).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from astro_slam.transforms import inverse, make_transform, small_motion

# A confirmed prior's pinned sigmas shrink to this share: they decide what they pin.
CONFIRMED_SIGMA_SHARE = 0.01


@dataclass
class PoseSolution:
    T_cw: np.ndarray
    inliers: np.ndarray  # bool per match
    information: np.ndarray  # (6, 6) of the left perturbation, translation first
    rms_px: float  # reprojection error of the inliers


def project(
    T_cw: np.ndarray, points_w: np.ndarray, K: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (N, 2) and depths (N,) of world points."""
    pc = points_w @ T_cw[:3, :3].T + T_cw[:3, 3]
    z = pc[:, 2]
    with np.errstate(divide='ignore', invalid='ignore'):
        uv = np.column_stack([K[0, 0] * pc[:, 0] / z + K[0, 2], K[1, 1] * pc[:, 1] / z + K[1, 2]])
    return uv, z


def refine(
    T_cw: np.ndarray,
    points_w: np.ndarray,
    xy: np.ndarray,
    sigma_px: np.ndarray,
    K: np.ndarray,
    huber_px: float = 1.5,
    iterations: int = 8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gauss-Newton with Huber weights on the reprojection error in units of sigma.

    Returns (T_cw, information of the left perturbation, whitened residual norms).
    """
    fx, fy = K[0, 0], K[1, 1]
    information = np.zeros((6, 6))
    norms = np.zeros(len(xy))
    for _ in range(iterations):
        pc = points_w @ T_cw[:3, :3].T + T_cw[:3, 3]
        X, Y, Z = pc[:, 0], pc[:, 1], np.maximum(pc[:, 2], 1e-3)
        r = (np.column_stack([fx * X / Z + K[0, 2], fy * Y / Z + K[1, 2]]) - xy) / sigma_px[
            :, None
        ]
        norms = np.linalg.norm(r, axis=1)
        w = np.where(norms <= huber_px, 1.0, huber_px / np.maximum(norms, 1e-9))
        # d(uv)/d(pc) and d(pc)/d(v, w) = [I, -[pc]x].
        J = np.zeros((len(xy), 2, 6))
        inv_z = 1.0 / Z
        J[:, 0, 0] = fx * inv_z
        J[:, 0, 2] = -fx * X * inv_z**2
        J[:, 1, 1] = fy * inv_z
        J[:, 1, 2] = -fy * Y * inv_z**2
        J[:, 0, 3] = -fx * X * Y * inv_z**2
        J[:, 0, 4] = fx * (1 + X**2 * inv_z**2)
        J[:, 0, 5] = -fx * Y * inv_z
        J[:, 1, 3] = -fy * (1 + Y**2 * inv_z**2)
        J[:, 1, 4] = fy * X * Y * inv_z**2
        J[:, 1, 5] = fy * X * inv_z
        J /= sigma_px[:, None, None]
        Jw = J * w[:, None, None]
        information = np.einsum('nij,nik->jk', Jw, J)
        gradient = np.einsum('nij,ni->j', Jw, r)
        try:
            step = -np.linalg.solve(information + 1e-9 * np.eye(6), gradient)
        except np.linalg.LinAlgError:
            break
        T_cw = small_motion(step[:3], step[3:]) @ T_cw
        if np.linalg.norm(step) < 1e-7:
            break
    return T_cw, information, norms


def solve_pnp(
    points_w: np.ndarray,
    xy: np.ndarray,
    sigma_px: np.ndarray,
    K: np.ndarray,
    T_guess: np.ndarray,
    ransac_px: float,
    inlier_chi2: float = 5.99,
) -> PoseSolution | None:
    """PnP RANSAC from the guess, then the robust refinement on all matches.

    After refinement a match is an inlier when its whitened squared error is below inlier_chi2
    (5.99: 95 % for 2 degrees of freedom), so the inlier set is the one of the final pose.
    """
    if len(xy) < 6:
        return None
    rvec, _ = cv2.Rodrigues(T_guess[:3, :3])
    tvec = T_guess[:3, 3].reshape(3, 1).copy()
    ok, rvec, tvec, ransac_inliers = cv2.solvePnPRansac(
        points_w.astype(np.float64),
        xy.astype(np.float64),
        K,
        None,
        rvec,
        tvec,
        useExtrinsicGuess=True,
        iterationsCount=100,
        reprojectionError=ransac_px,
        confidence=0.999,
        flags=cv2.SOLVEPNP_ITERATIVE,
    )
    if not ok or ransac_inliers is None or len(ransac_inliers) < 6:
        return None
    T = make_transform(cv2.Rodrigues(rvec)[0], tvec.reshape(3))
    use = ransac_inliers.reshape(-1)
    T, _, _ = refine(T, points_w[use], xy[use], sigma_px[use], K)
    # Re-classify every match at the refined pose, then refine on the final inliers.
    inliers = _fits(T, points_w, xy, sigma_px, K, inlier_chi2)
    if inliers.sum() < 6:
        return None
    return _refined(T, points_w, xy, sigma_px, K, inliers)


def _fits(
    T_cw: np.ndarray,
    points_w: np.ndarray,
    xy: np.ndarray,
    sigma_px: np.ndarray,
    K: np.ndarray,
    inlier_chi2: float,
) -> np.ndarray:
    """Matches in front of the camera whose whitened squared error at T_cw is below inlier_chi2."""
    uv, z = project(T_cw, points_w, K)
    chi2 = np.sum(((uv - xy) / sigma_px[:, None]) ** 2, axis=1)
    return (z > 0) & (chi2 < inlier_chi2)


def _refined(
    T_cw: np.ndarray,
    points_w: np.ndarray,
    xy: np.ndarray,
    sigma_px: np.ndarray,
    K: np.ndarray,
    inliers: np.ndarray,
) -> PoseSolution:
    """The solution refined from T_cw on the given inliers."""
    T, information, norms = refine(T_cw, points_w[inliers], xy[inliers], sigma_px[inliers], K)
    rms = float(np.sqrt(np.mean((norms * sigma_px[inliers]) ** 2)))
    return PoseSolution(T, inliers, information, rms)


def at_pose(
    solution: PoseSolution,
    points_w: np.ndarray,
    xy: np.ndarray,
    sigma_px: np.ndarray,
    K: np.ndarray,
    solved_from: np.ndarray,
    inlier_chi2: float = 5.99,
) -> PoseSolution:
    """A solution found from the matches solved_from, with every other match an inlier where
    it fits that pose, refined on all its inliers: the others add their information but, gated
    by the pose they did not choose, cannot carry it off."""
    inliers = _fits(solution.T_cw, points_w, xy, sigma_px, K, inlier_chi2) & ~solved_from
    inliers[np.flatnonzero(solved_from)[solution.inliers]] = True
    return _refined(solution.T_cw, points_w, xy, sigma_px, K, inliers)


def with_prior(
    solution: PoseSolution, T_prior: np.ndarray, prior_information: np.ndarray
) -> PoseSolution:
    """The solution moved towards a pose prior, each weighted by its information.

    One Gauss-Newton step of min |d|^2 (solution's information) + |d - e|^2 (prior's), e the
    prior's left perturbation from the solution: directions the images pin down stay put, and
    poorly observed ones (few inliers, all far away) follow the prior. The information stays
    the images' own: the consumer (fusion) adds the prior's, from the same wheels, itself.
    """
    delta = T_prior @ inverse(solution.T_cw)
    e = np.concatenate([delta[:3, 3], Rotation.from_matrix(delta[:3, :3]).as_rotvec()])
    try:
        d = np.linalg.solve(solution.information + prior_information, prior_information @ e)
    except np.linalg.LinAlgError:
        return solution
    return dataclasses.replace(solution, T_cw=small_motion(d[:3], d[3:]) @ solution.T_cw)


def confirming_prior(
    solution: PoseSolution,
    T_prior: np.ndarray,
    base_sigmas: np.ndarray,
    T_base_camera: np.ndarray,
    pinned: tuple[int, ...] = (0, 1, 5),
) -> PoseSolution:
    """A pose whose inliers are too few to stand alone, taken only as confirmation of the
    prior: the base axes the prior pins (by default a wheel prior's x, y and yaw) become the
    prior's; the others (height, roll, pitch) are weighed as with_prior weighs them."""
    sigmas = np.asarray(base_sigmas, float).copy()
    sigmas[list(pinned)] *= CONFIRMED_SIGMA_SHARE
    return with_prior(solution, T_prior, camera_information(sigmas, T_base_camera))


def camera_information(base_sigmas: np.ndarray, T_base_camera: np.ndarray) -> np.ndarray:
    """Information of T_cw's left perturbation from the standard deviations of a base pose
    prior (x, y, z, roll, pitch, yaw; right perturbation of the base in its own frame).

    T_cw = T_cb exp(-db) T_bw = exp(-Ad(T_cb) db) T_cw, so the camera's covariance is
    Ad(T_cb) diag(sigma^2) Ad(T_cb)^T.
    """
    A = adjoint(inverse(T_base_camera))
    cov = A @ np.diag(np.asarray(base_sigmas, float) ** 2) @ A.T
    return np.linalg.inv(0.5 * (cov + cov.T))


def adjoint(T: np.ndarray) -> np.ndarray:
    """Adjoint of SE(3) for (translation, rotation) tangent vectors."""
    R, t = T[:3, :3], T[:3, 3]
    skew = np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]])
    A = np.zeros((6, 6))
    A[:3, :3] = R
    A[:3, 3:] = skew @ R
    A[3:, 3:] = R
    return A


def base_pose_covariance(information: np.ndarray, T_base_camera: np.ndarray) -> np.ndarray:
    """Covariance of the base pose in its own frame (ROS order) from the information of T_cw.

    T_wc = inverse(T_cw) then carries a right perturbation -d, and T_wb = T_wc T_cb a right
    perturbation -Ad(T_bc) d.
    """
    try:
        cov_c = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return np.eye(6) * 1e6
    A = adjoint(T_base_camera)
    cov = A @ cov_c @ A.T
    return 0.5 * (cov + cov.T)


__all__ = [
    'PoseSolution',
    'base_pose_covariance',
    'camera_information',
    'inverse',
    'project',
    'refine',
    'solve_pnp',
    'with_prior',
]
