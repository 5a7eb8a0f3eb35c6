"""Descriptor matching guided by predicted positions.

Candidate pairs come from a k-d tree over keypoint positions and only those are compared, so
the cost grows with the number of nearby candidates, not with the product of both sets.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distance of paired descriptors: Hamming bits (uint8) or Euclidean (float)."""
    if a.dtype == np.uint8:
        return np.bitwise_count(np.bitwise_xor(a, b)).sum(axis=1, dtype=np.int32)
    return np.linalg.norm(a.astype(np.float32) - b.astype(np.float32), axis=1)


def best_pairs(
    query: np.ndarray, train: np.ndarray, dist: np.ndarray, max_distance: float, ratio: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-to-one matches from candidate pairs (query[i], train[i]) at distance dist[i].

    Each query keeps its best candidate if it is under max_distance and clearly better than its
    second best (ratio test on distances); each train index then keeps its best query.
    Returns (query indices, train indices, distances).
    """
    empty = np.zeros(0, int)
    if len(query) == 0:
        return empty, empty, np.zeros(0)
    order = np.lexsort((dist, query))
    query, train, dist = query[order], train[order], dist[order]
    first = np.r_[True, query[1:] != query[:-1]]
    starts = np.flatnonzero(first)
    best = starts
    has_second = np.r_[starts[1:], len(query)] - starts > 1
    second = np.where(has_second, np.minimum(starts + 1, len(query) - 1), starts)
    ok = dist[best] <= max_distance
    ok &= ~has_second | (dist[best] < ratio * dist[second])
    q, t, d = query[best[ok]], train[best[ok]], dist[best[ok]]
    if len(q) == 0:
        return empty, empty, np.zeros(0)
    # One query per train keypoint: the closest wins.
    order = np.lexsort((d, t))
    q, t, d = q[order], t[order], d[order]
    unique = np.r_[True, t[1:] != t[:-1]]
    return q[unique], t[unique], d[unique]


def _pairs(tree: cKDTree, centres: np.ndarray, radius: float):
    lists = tree.query_ball_point(centres, radius, return_sorted=False)
    counts = np.fromiter((len(x) for x in lists), int, len(lists))
    query = np.repeat(np.arange(len(lists)), counts)
    train = np.fromiter((j for x in lists for j in x), int, int(counts.sum()))
    return query, train


def match_projected(
    predicted_xy: np.ndarray,
    map_descriptors: np.ndarray,
    keypoints_xy: np.ndarray,
    descriptors: np.ndarray,
    radius: float,
    max_distance: float,
    ratio: float = 0.9,
) -> tuple[np.ndarray, np.ndarray]:
    """Map points (projected to predicted_xy) matched to keypoints within `radius` pixels.

    Returns (map indices, keypoint indices).
    """
    if len(predicted_xy) == 0 or len(keypoints_xy) == 0:
        return np.zeros(0, int), np.zeros(0, int)
    query, train = _pairs(cKDTree(keypoints_xy), predicted_xy, radius)
    dist = distances(map_descriptors[query], descriptors[train])
    q, t, _ = best_pairs(query, train, dist, max_distance, ratio)
    return q, t
