"""Trajectory metrics: association by stamp, SE(3) Umeyama alignment, ATE and RPE.

ATE is the RMSE of positions after the rigid alignment that minimises it (Umeyama, no scale).
RPE over distance is KITTI-style drift: for every start pose, the first pose at least `length`
metres further along the true path; the translational error of the estimated relative motion
against the true one, as a percentage of the distance actually travelled between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astro_slam.transforms import inverse, rotation_deg


def associate(
    est_t: np.ndarray, ref_t: np.ndarray, max_dt_ns: int = 20_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (est, ref) of the nearest reference stamp within max_dt_ns of each estimate."""
    if len(est_t) == 0 or len(ref_t) == 0:
        return np.zeros(0, int), np.zeros(0, int)
    pos = (
        np.clip(np.searchsorted(ref_t, est_t), 1, len(ref_t) - 1)
        if len(ref_t) > 1
        else np.zeros(len(est_t), int)
    )
    before = np.maximum(pos - 1, 0)
    nearer = np.where(np.abs(ref_t[before] - est_t) <= np.abs(ref_t[pos] - est_t), before, pos)
    ok = np.abs(ref_t[nearer] - est_t) <= max_dt_ns
    return np.flatnonzero(ok), nearer[ok]


def umeyama(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The rigid T (4, 4) minimising sum |target - T source|^2 over (N, 3) point sets."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    cov = (target - mu_t).T @ (source - mu_s) / len(source)
    U, _, Vt = np.linalg.svd(cov)
    S = np.eye(3)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        S[2, 2] = -1
    R = U @ S @ Vt
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = R, mu_t - R @ mu_s
    return T


@dataclass(frozen=True)
class TrajectoryErrors:
    matched: int
    ate_rmse_m: float
    rpe_trans_pct: float  # mean over segments of rpe_length_m
    rpe_rot_deg_per_m: float
    rpe_length_m: float
    length_m: float  # of the true path over the matched poses
    # Estimated over true displacement summed over the RPE segments: below 1 when the estimate
    # under-measures motion (a scale error, such as biased stereo depth).
    distance_ratio: float


def evaluate(
    est_t: np.ndarray,
    est_T: np.ndarray,
    ref_t: np.ndarray,
    ref_T: np.ndarray,
    rpe_length_m: float = 1.0,
    max_dt_ns: int = 20_000_000,
) -> TrajectoryErrors:
    """Errors of an estimate (stamps, (N, 4, 4) poses) against the reference."""
    ei, ri = associate(np.asarray(est_t), np.asarray(ref_t), max_dt_ns)
    if len(ei) < 3:
        raise ValueError(f'only {len(ei)} estimated poses match reference stamps')
    E, G = est_T[ei], ref_T[ri]
    align = umeyama(E[:, :3, 3], G[:, :3, 3])
    aligned = align[:3, :3] @ E[:, :3, 3].T + align[:3, 3:4]
    ate = float(np.sqrt(np.mean(np.sum((aligned.T - G[:, :3, 3]) ** 2, axis=1))))
    step = np.linalg.norm(np.diff(G[:, :3, 3], axis=0), axis=1)
    travelled = np.r_[0.0, np.cumsum(step)]
    trans, rots, est_m, true_m = [], [], 0.0, 0.0
    for i in range(len(G)):
        j = int(np.searchsorted(travelled, travelled[i] + rpe_length_m))
        if j >= len(G):
            break
        error = inverse(inverse(G[i]) @ G[j]) @ (inverse(E[i]) @ E[j])
        dist = travelled[j] - travelled[i]
        trans.append(np.linalg.norm(error[:3, 3]) / dist)
        est_m += float(np.linalg.norm(E[j, :3, 3] - E[i, :3, 3]))
        true_m += float(np.linalg.norm(G[j, :3, 3] - G[i, :3, 3]))
        rots.append(rotation_deg(error) / dist)
    return TrajectoryErrors(
        matched=len(ei),
        ate_rmse_m=ate,
        rpe_trans_pct=float(np.mean(trans) * 100) if trans else float('nan'),
        rpe_rot_deg_per_m=float(np.mean(rots)) if rots else float('nan'),
        rpe_length_m=rpe_length_m,
        length_m=float(travelled[-1]),
        distance_ratio=est_m / true_m if true_m > 0 else float('nan'),
    )
