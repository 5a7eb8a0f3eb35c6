"""Local features behind one interface: ORB (OpenCV) or the learned ONNX extractor.

An extractor returns keypoints spread over the image (a grid keeps the strongest corners of
each cell, so that one textured poster does not take every feature) and their descriptors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np


@dataclass
class Features:
    """Keypoints of one image: pixel positions, pyramid level and descriptors (one row each)."""

    xy: np.ndarray  # (N, 2) float32 pixels
    octave: np.ndarray  # (N,) int: pyramid level, for the position uncertainty
    descriptors: np.ndarray  # (N, D): uint8 (binary, Hamming) or float32 (L2)

    def __len__(self) -> int:
        return len(self.xy)

    def subset(self, index: np.ndarray) -> Features:
        return Features(self.xy[index], self.octave[index], self.descriptors[index])

    @staticmethod
    def empty(descriptor_size: int = 32) -> Features:
        return Features(
            np.zeros((0, 2), np.float32),
            np.zeros(0, int),
            np.zeros((0, descriptor_size), np.uint8),
        )


# The `features` parameter of every node that reads descriptors (VO, backend, map server).
EXTRACTORS = ('orb', 'learned')


class FeatureExtractor(Protocol):
    """What the tracker needs of an extractor."""

    descriptor_size: int  # bytes (binary) or floats per descriptor
    binary: bool  # True: Hamming distance on bits; False: L2 on floats
    scale_factor: float  # between pyramid levels: position sigma = scale_factor ** octave

    def extract(self, gray: np.ndarray) -> Features: ...


class OrbExtractor:
    """ORB keypoints kept per grid cell by FAST response, then described (rBRIEF, 32 bytes)."""

    descriptor_size = 32
    binary = True

    def __init__(
        self,
        max_features: int = 1000,
        grid_cols: int = 8,
        grid_rows: int = 6,
        fast_threshold: int = 12,
        levels: int = 4,
        scale_factor: float = 1.2,
    ) -> None:
        self.max_features = max_features
        self.grid = (grid_cols, grid_rows)
        self.scale_factor = scale_factor
        # Detect more than we keep: the grid then chooses.
        self.orb = cv2.ORB_create(
            nfeatures=max_features * 3,
            scaleFactor=scale_factor,
            nlevels=levels,
            edgeThreshold=19,
            patchSize=19,
            fastThreshold=fast_threshold,
        )

    def extract(self, gray: np.ndarray) -> Features:
        keypoints = self.orb.detect(gray, None)
        if not keypoints:
            return Features.empty(self.descriptor_size)
        xy = np.array([k.pt for k in keypoints])
        response = np.array([k.response for k in keypoints])
        keep = spread(xy, response, gray.shape, self.grid, self.max_features)
        keypoints = [keypoints[i] for i in keep]
        keypoints, descriptors = self.orb.compute(gray, keypoints)
        if descriptors is None or not keypoints:
            return Features.empty(self.descriptor_size)
        xy = np.array([k.pt for k in keypoints], np.float32)
        octave = np.array([k.octave for k in keypoints], int)
        return Features(xy, octave, descriptors)


def spread(
    xy: np.ndarray,
    response: np.ndarray,
    shape: tuple[int, ...],
    grid: tuple[int, int],
    max_features: int,
) -> np.ndarray:
    """Indices of the strongest keypoints of each grid cell (cols, rows), max_features in all."""
    cols, rows = grid
    height, width = shape[:2]
    cell = (
        np.minimum(xy[:, 1] * rows // height, rows - 1) * cols
        + np.minimum(xy[:, 0] * cols // width, cols - 1)
    ).astype(int)
    per_cell = max(1, max_features // (cols * rows))
    # Sort by cell, then by falling response; keep the first per_cell of each cell.
    order = np.lexsort((-response, cell))
    sorted_cells = cell[order]
    first = np.searchsorted(sorted_cells, sorted_cells, side='left')
    rank = np.arange(len(order)) - first
    keep = order[rank < per_cell]
    # Cells with few corners leave room: fill it with the strongest of the rest.
    spare = max_features - len(keep)
    if spare > 0:
        rest = order[rank >= per_cell]
        keep = np.concatenate([keep, rest[np.argsort(-response[rest])[:spare]]])
    return keep


def make_extractor(
    name: str, max_features: int, model: str = '', input_scale: float = 1.0
) -> FeatureExtractor:
    """The extractor named by the `features` parameter (`model`, `input_scale`: the learned
    one's file and input size)."""
    if name == 'orb':
        return OrbExtractor(max_features=max_features)
    if name == 'learned':
        from astro_slam.learned.extractor import LearnedExtractor

        return LearnedExtractor(max_features, model or None, input_scale=input_scale)
    raise ValueError(f'unknown feature extractor {name!r}; available: {EXTRACTORS}')
