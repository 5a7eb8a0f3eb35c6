"""Geometric verification of a place candidate: descriptor matches, PnP RANSAC, depth check.

The candidate keyframe's landmarks (3D, its camera frame) are matched by descriptor to the query
keyframe's observations (pixels) and a camera pose is sought that projects them there. A
candidate passes with enough inliers, a large enough share of its matches, and inliers whose
depth in the query camera agrees with the query's own stereo or depth measurement: a flat
poster seen twice can fit a wrong pose in 2D, but not in depth too. The pose is then sought the
other way too, the query's landmarks onto the candidate's pixels: each direction rests on one
keyframe's depths, and where they disagree (a far wall whose stereo depth is a few percent
off in one of them) the pose is not known as well as a loop factor claims.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from astro_slam.transforms import inverse, make_transform


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
    min_inliers: int = 20
    min_inlier_ratio: float = 0.3
    depth_tolerance: float = 0.1  # share of the depth, plus 5 cm
    min_depth_agreement: float = 0.7  # share of inliers whose depth agrees
    guided_radius_px: float = 40.0  # search by projection: how far from the prediction
    seed_inliers: int = 8  # a first PnP this good is refined by a search by projection
    # The two directions' positions must agree this well (inf: not checked). Their rotations
    # are not compared: a wrong loop's rotation was within a few degrees, and the right loops'
    # two rotations differed by up to 6 degrees on the same keyframes.
    two_way_m: float = np.inf


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


def by_matches(query: KeyframeView, candidates: list[KeyframeView], p: VerifyParams) -> list[int]:
    """Indices of the candidates, the most descriptor matches with the query first (`match`,
    the matches verification starts from); ties keep their order."""
    counts = [len(match(query, candidate, p)) for candidate in candidates]
    return sorted(range(len(candidates)), key=lambda j: -counts[j])


def match_by_projection(
    query: KeyframeView,
    candidate: KeyframeView,
    K: np.ndarray,
    T_qc: np.ndarray,
    p: VerifyParams,
) -> np.ndarray:
    """(M, 2) index pairs: each candidate landmark projected with the predicted T_qc, matched
    to the query keypoint within guided_radius_px of it with the nearest descriptor (mutually
    nearest, within max_distance)."""
    pc = candidate.points_c @ T_qc[:3, :3].T + T_qc[:3, 3]
    front = pc[:, 2] > 0.1
    if not front.any() or len(query.xy) == 0:
        return np.zeros((0, 2), int)
    uv = pc[front, :2] / pc[front, 2:] * K[[0, 1], [0, 1]] + K[:2, 2]
    near = np.linalg.norm(query.xy[:, None, :] - uv[None, :, :], axis=2) < p.guided_radius_px
    if not near.any():
        return np.zeros((0, 2), int)
    xor = np.bitwise_xor(query.descriptors[:, None, :], candidate.descriptors[front][None, :, :])
    distance = np.bitwise_count(xor).sum(axis=2, dtype=np.int32)
    distance = np.where(near, distance, 10**6)
    best_c = distance.argmin(axis=1)
    best_q = distance.argmin(axis=0)
    q = np.arange(len(query.xy))
    good = (distance[q, best_c] <= p.max_distance) & (best_q[best_c] == q)
    return np.c_[q[good], np.flatnonzero(front)[best_c[good]]]


def _union(pairs: np.ndarray, more: np.ndarray) -> np.ndarray:
    """pairs plus the pairs of `more` whose query keypoint is not matched yet."""
    if not len(more):
        return pairs
    known = set(pairs[:, 0].tolist())
    extra = more[[q not in known for q in more[:, 0]]]
    return np.vstack([pairs, extra]) if len(extra) else pairs


def _pnp(
    query: KeyframeView, candidate: KeyframeView, K: np.ndarray, pairs: np.ndarray, p: VerifyParams
) -> tuple[np.ndarray | None, np.ndarray]:
    """T_qc from PnP RANSAC refined on its inliers, and the inliers under the refined pose."""
    none = np.zeros(0, int)
    if len(pairs) < 6:
        return None, none
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
    if not ok or inliers is None or len(inliers) < 6:
        return None, none
    inliers = inliers.ravel()
    rvec, tvec = cv2.solvePnPRefineLM(
        object_points[inliers], image_points[inliers], K, None, rvec, tvec
    )
    T_qc = make_transform(cv2.Rodrigues(rvec)[0], tvec.ravel())
    projected, _ = cv2.projectPoints(object_points, rvec, tvec, K, None)
    in_q = object_points @ T_qc[:3, :3].T + T_qc[:3, 3]
    error = np.linalg.norm(projected.reshape(-1, 2) - image_points, axis=1)
    return T_qc, np.flatnonzero((error < p.ransac_px) & (in_q[:, 2] > 0))


def verify(
    query: KeyframeView,
    candidate: KeyframeView,
    K: np.ndarray,
    p: VerifyParams,
    T_qc_predicted: np.ndarray | None = None,
) -> Verification:
    """Verifies a candidate. Landmarks are also matched by projection: with T_qc_predicted
    (from the pose graph) from the start; without it, around the pose of a first PnP on the
    descriptor matches alone, when it has at least seed_inliers (relocalization: a place seen
    from aside leaves too few ratio-test matches for the final threshold)."""
    pairs = match(query, candidate, p)
    if T_qc_predicted is not None:
        pairs = _union(pairs, match_by_projection(query, candidate, K, T_qc_predicted, p))
    T_qc, inliers = _pnp(query, candidate, K, pairs, p)
    seeded = T_qc is not None and p.seed_inliers <= len(inliers) < p.min_inliers
    if T_qc_predicted is None and seeded:
        assert T_qc is not None
        pairs = _union(pairs, match_by_projection(query, candidate, K, T_qc, p))
        T_qc, inliers = _pnp(query, candidate, K, pairs, p)
    n, count = len(pairs), len(inliers)
    if T_qc is None or count < p.min_inliers or count < p.min_inlier_ratio * n:
        return Verification(None, n, count, f'{count} of {n} matches fit one pose')
    in_q = candidate.points_c[pairs[inliers, 1]] @ T_qc[:3, :3].T + T_qc[:3, 3]
    z_seen = query.points_c[pairs[inliers, 0], 2]
    agree = np.abs(in_q[:, 2] - z_seen) < p.depth_tolerance * z_seen + 0.05
    if agree.mean() < p.min_depth_agreement:
        return Verification(None, n, count, f'depth agrees on {agree.mean():.0%} of inliers')
    if np.isfinite(p.two_way_m):
        moved = _two_way_disagreement(query, candidate, K, pairs[inliers], T_qc)
        if moved > p.two_way_m:
            return Verification(None, n, count, f'the two directions disagree by {moved:.2f} m')
    return Verification(T_qc, n, count)


def _two_way_disagreement(
    query: KeyframeView,
    candidate: KeyframeView,
    K: np.ndarray,
    pairs: np.ndarray,
    T_qc: np.ndarray,
) -> float:
    """Metres between the query camera placed by T_qc and by the pose refined from the query's
    landmarks onto the candidate's pixels (the same inlier pairs, started at T_qc's inverse)."""
    T_cq = inverse(T_qc)
    rvec = cv2.Rodrigues(np.ascontiguousarray(T_cq[:3, :3]))[0]
    tvec = T_cq[:3, 3].reshape(3, 1).copy()
    rvec, tvec = cv2.solvePnPRefineLM(
        query.points_c[pairs[:, 0]].astype(np.float64),
        candidate.xy[pairs[:, 1]].astype(np.float64),
        K,
        None,
        rvec,
        tvec,
    )
    D = T_qc @ make_transform(cv2.Rodrigues(rvec)[0], tvec.ravel())
    return float(np.linalg.norm(D[:3, 3]))
