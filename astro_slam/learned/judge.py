"""How well two views of one place match: mutual nearest neighbours by Hamming distance, judged
against the exact correspondences of the rendered depth (views.correspondences)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from astro_slam.learned.views import View, correspondences, view_pairs
from astro_slam.sim.generate import generate_home
from astro_slam.sim.rig import Rig
from astro_slam.vo.config import VisualOdometryConfig
from astro_slam.vo.features import FeatureExtractor, Features
from astro_slam.vo.image_quality import Normaliser, as_vo_sees


@dataclass
class MatchCount:
    matches: int  # mutual nearest neighbours whose first keypoint has a known correspondence
    correct: int  # of them, those within `tolerance` pixels of the true position

    @property
    def precision(self) -> float:
        return self.correct / self.matches if self.matches else 0.0


def mutual_matches(da: np.ndarray, db: np.ndarray, ratio: float = 0.8) -> np.ndarray:
    """(M, 2) index pairs: mutual nearest neighbours by Hamming distance whose nearest is
    clearly nearer than the second nearest (Lowe's ratio test, from both sides): a rule with
    no threshold tuned to one descriptor, so that ORB and the learned bits compare fairly."""
    if len(da) < 2 or len(db) < 2:
        return np.zeros((0, 2), int)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)

    def best(q: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pairs = matcher.knnMatch(q, t, k=2)
        nearest = np.array([p[0].trainIdx for p in pairs])
        clear = np.array([p[0].distance < ratio * p[1].distance for p in pairs])
        return nearest, clear

    ab, clear_a = best(da, db)
    ba, clear_b = best(db, da)
    ia = np.flatnonzero(clear_a & (ba[ab] == np.arange(len(da))) & clear_b[ab])
    return np.column_stack([ia, ab[ia]])


def match_count(
    fa: Features, fb: Features, a: View, b: View, K: np.ndarray, tolerance_px: float = 3.0
) -> MatchCount:
    """Matches of two views' features (mutual_matches), counted and judged.

    A match whose first keypoint has no known position in b (no depth, out of view, hidden)
    cannot be judged and is left out of both counts.
    """
    pairs = mutual_matches(fa.descriptors, fb.descriptors)
    if len(pairs) == 0:
        return MatchCount(0, 0)
    ia, ib = pairs[:, 0], pairs[:, 1]
    truth, known = correspondences(a, b, K, fa.xy[ia])
    error = np.linalg.norm(truth - fb.xy[ib], axis=1)
    return MatchCount(int(known.sum()), int((known & (error <= tolerance_px)).sum()))


def match_totals(
    extractors: dict[str, FeatureExtractor],
    homes: list[int] | tuple[int, ...],
    per_home: int,
    lights: tuple[str, str],
) -> dict[str, MatchCount]:
    """Each extractor's matches summed over `per_home` view pairs of each home under `lights`,
    on the images as the VO gives them to extractors (smoothed if noisy, then CLAHE)."""
    K = Rig().intrinsics.K
    vo = VisualOdometryConfig()
    clahe = Normaliser(vo.normalisation)

    def prepared(image: np.ndarray) -> np.ndarray:
        return as_vo_sees([image], clahe, vo.denoise_target_noise, vo.denoise_max_px)[0]

    totals = {name: MatchCount(0, 0) for name in extractors}
    for seed in homes:
        for a, b in view_pairs(generate_home(seed), per_home, seed, lights):
            left, right = prepared(a.gray), prepared(b.gray)
            for name, e in extractors.items():
                c = match_count(e.extract(left), e.extract(right), a, b, K)
                totals[name].matches += c.matches
                totals[name].correct += c.correct
    return totals
