"""Geometric verification of a place candidate: descriptor matches, PnP RANSAC, depth check.

The candidate keyframe's landmarks (3D, its camera frame) are matched by descriptor to the query
keyframe's observations (pixels) and a camera pose is sought that projects them there. A
candidate passes with enough inliers, a large enough share of its matches, and inliers whose
depth in the query camera agrees with the query's own stereo or depth measurement: a flat
poster seen twice can fit a wrong pose in 2D, but not in depth too.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from astro_slam.transforms import make_transform


@dataclass
class KeyframeView:
    """What verification needs of a keyframe: landmarks in its camera frame and their pixels."""

    points_c: np.ndarray  # (N, 3)
    xy: np.ndarray  # (N, 2)
    descriptors: np.ndarray  # (N, bytes) uint8
    ids: np.ndarray | None = None  # (N,) VO landmark ids, shared across keyframes


@dataclass(frozen=True)
class VerifyParams:
    ratio: float = 0.8  # Lowe's ratio test on Hamming distances
    max_distance: int = 64  # bits
    ransac_px: float = 3.0
    min_inliers: int = 40
    min_inlier_ratio: float = 0.3
    depth_tolerance: float = 0.1  # share of the depth, plus 5 cm
    min_depth_agreement: float = 0.7  # share of inliers whose depth agrees


@dataclass
class Verification:
    """T_qc: the candidate camera in the query camera, None when rejected (reason says why)."""

    T_qc: np.ndarray | None
    matches: int = 0
    inliers: int = 0
    reason: str = ''

    @property
    def accepted(self) -> bool:
        return self.T_qc is not None


def match(query: KeyframeView, candidate: KeyframeView, p: VerifyParams) -> np.ndarray:
    """(M, 2) index pairs (query, candidate) that pass the ratio test and the distance cap."""
    if len(query.descriptors) < 2 or len(candidate.descriptors) < 2:
        return np.zeros((0, 2), int)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(query.descriptors, candidate.descriptors, k=2)
    out = [
        (m[0].queryIdx, m[0].trainIdx)
        for m in pairs
        if len(m) == 2
        and m[0].distance <= p.max_distance
        and m[0].distance < p.ratio * m[1].distance
    ]
    return np.array(out, int).reshape(-1, 2)


def verify(
    query: KeyframeView, candidate: KeyframeView, K: np.ndarray, p: VerifyParams
) -> Verification:
    pairs = match(query, candidate, p)
    n = len(pairs)
    if n < p.min_inliers:
        return Verification(None, n, 0, f'{n} matches')
    object_points = candidate.points_c[pairs[:, 1]].astype(np.float64)
    image_points = query.xy[pairs[:, 0]].astype(np.float64)
    ok, rvec, tvec, inliers = cv2.solvePnPRansac(
        object_points,
        image_points,
        K,
        None,
        iterationsCount=300,
        reprojectionError=p.ransac_px,
        confidence=0.999,
        flags=cv2.SOLVEPNP_EPNP,
    )
    if not ok or inliers is None or len(inliers) < p.min_inliers:
        return Verification(None, n, 0 if inliers is None else len(inliers), 'few inliers')
    inliers = inliers.ravel()
    rvec, tvec = cv2.solvePnPRefineLM(
        object_points[inliers], image_points[inliers], K, None, rvec, tvec
    )
    T_qc = make_transform(cv2.Rodrigues(rvec)[0], tvec.ravel())
    # Inliers again under the refined pose.
    projected, _ = cv2.projectPoints(object_points, rvec, tvec, K, None)
    in_q = object_points @ T_qc[:3, :3].T + T_qc[:3, 3]
    error = np.linalg.norm(projected.reshape(-1, 2) - image_points, axis=1)
    inliers = np.flatnonzero((error < p.ransac_px) & (in_q[:, 2] > 0))
    count = len(inliers)
    if count < p.min_inliers or count < p.min_inlier_ratio * n:
        return Verification(None, n, count, f'{count} of {n} matches fit one pose')
    z_pred = in_q[inliers, 2]
    z_seen = query.points_c[pairs[inliers, 0], 2]
    agree = np.abs(z_pred - z_seen) < p.depth_tolerance * z_seen + 0.05
    if agree.mean() < p.min_depth_agreement:
        return Verification(None, n, count, f'depth agrees on {agree.mean():.0%} of inliers')
    return Verification(T_qc, n, count)
