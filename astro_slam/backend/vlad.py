"""VLAD place vectors of binary descriptors: the global place descriptor of the learned features.

Each descriptor's bits (0/1 floats) are assigned to the nearest of K centres (k-means of
training descriptors, shipped in data/learned_vlad.npz, made by astro_slam/learned/train.py);
the place vector stacks, per centre, the sum of its descriptors' residuals, square-rooted
(signed) so that one repeated texture does not dominate, normalised per centre and then as a
whole (Arandjelovic and Zisserman, "All about VLAD", 2013). Unlike a bag of words it keeps how
the descriptors of a word differ from the word, which is what survives a change of light.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np

DEFAULT_VLAD = Path(__file__).with_name('data') / 'learned_vlad.npz'
FORMAT = 'astro_slam.vlad/1'


class VladError(ValueError):
    """A VLAD file that is missing, corrupt or of another format."""


class VladEncoder:
    """K centres in bit space (K, bits) float32, for binary descriptors of bits / 8 bytes."""

    def __init__(self, centres: np.ndarray) -> None:
        if centres.ndim != 2 or len(centres) == 0 or centres.shape[1] % 8:
            raise VladError(
                f'centres must be (K, bits) with bits a multiple of 8, not {centres.shape}'
            )
        if not np.all(np.isfinite(centres)):
            raise VladError('centres must be finite')
        self.centres = np.ascontiguousarray(centres, np.float32)
        self._matcher = cv2.BFMatcher(cv2.NORM_L2)

    @property
    def size(self) -> int:
        return self.centres.size

    @property
    def descriptor_size(self) -> int:
        return self.centres.shape[1] // 8

    @classmethod
    def load(cls, path: str | Path | None = None) -> VladEncoder:
        path = Path(path) if path else DEFAULT_VLAD
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data['format']) != FORMAT:
                    raise VladError(f'{path}: format {data["format"]}, expected {FORMAT}')
                return cls(data['centres'])
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as err:
            if isinstance(err, VladError):
                raise
            raise VladError(f'{path}: not a VLAD file ({err})') from None

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, format=np.str_(FORMAT), centres=self.centres)

    def prepare(self, descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each descriptor's centre and residual, once for descriptors shared by many places."""
        if descriptors.dtype != np.uint8 or descriptors.shape[1:] != (self.descriptor_size,):
            raise ValueError(
                f'descriptors {descriptors.shape[1:]} {descriptors.dtype} do not fit VLAD '
                f'centres of {self.descriptor_size}-byte binary descriptors'
            )
        bits = np.unpackbits(descriptors, axis=1).astype(np.float32)
        if len(bits) == 0:
            return np.zeros(0, int), bits
        labels = np.array([m.trainIdx for m in self._matcher.match(bits, self.centres)])
        return labels, bits - self.centres[labels]

    def vector_of(self, prepared: tuple[np.ndarray, np.ndarray], rows) -> np.ndarray:
        """The L2-normalised place vector (K * bits,) float32 of the prepared rows."""
        labels, residuals = prepared
        v = np.zeros_like(self.centres)
        np.add.at(v, labels[rows], residuals[rows])
        v = np.sign(v) * np.sqrt(np.abs(v))
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        v = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0).reshape(-1)
        norm = float(np.linalg.norm(v))
        return v / norm if norm > 0 else v

    def vector(self, descriptors: np.ndarray) -> np.ndarray:
        """The place vector of one keyframe's descriptors; zeros for none."""
        return self.vector_of(self.prepare(descriptors), slice(None))


def train_vlad(descriptor_sets: list[np.ndarray], k: int = 16, seed: int = 0) -> VladEncoder:
    """k-means centres of the descriptors' bits (at most 200,000 descriptors, drawn at random)."""
    descriptors = np.concatenate([d for d in descriptor_sets if len(d)])
    if len(descriptors) < k:
        raise ValueError(f'{len(descriptors)} descriptors cannot make {k} centres')
    rng = np.random.default_rng(seed)
    if len(descriptors) > 200_000:
        descriptors = descriptors[rng.choice(len(descriptors), 200_000, replace=False)]
    bits = np.unpackbits(descriptors, axis=1).astype(np.float32)
    cv2.setRNGSeed(seed)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 30, 1e-3)
    _, _, centres = cv2.kmeans(bits, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    return VladEncoder(centres)
