"""A visual vocabulary of binary words: ORB descriptors in, one TF-IDF place vector out.

The words are cluster centres of ORB descriptors (k-majority: Hamming k-means whose centre bits
are the majority vote of their members) from simulated homes under every lighting of the
simulator; train_vocabulary.py reproduces the shipped file. A keyframe's place vector counts its
words, weights each by its inverse document frequency (rare words tell places apart) and is
normalised, so two keyframes' similarity is the dot product of their vectors.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np

from astro_slam.vo.matching import distances

DEFAULT_VOCABULARY = Path(__file__).with_name('data') / 'orb_vocabulary.npz'
FORMAT = 'astro_slam.vocabulary/1'


class VocabularyError(ValueError):
    """A vocabulary file that is missing, corrupt or of another format."""


class Vocabulary:
    """Binary words (K, 32) uint8 and their IDF weights (K,)."""

    def __init__(self, words: np.ndarray, idf: np.ndarray) -> None:
        if words.ndim != 2 or words.dtype != np.uint8 or len(words) == 0:
            raise VocabularyError(
                f'words must be (K, bytes) uint8, not {words.shape} {words.dtype}'
            )
        if idf.shape != (len(words),) or not np.all(np.isfinite(idf)):
            raise VocabularyError(f'idf must be {len(words)} finite weights')
        self.words = np.ascontiguousarray(words)
        self.idf = idf.astype(np.float32)
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)

    @property
    def size(self) -> int:
        return len(self.words)

    @property
    def descriptor_size(self) -> int:
        return self.words.shape[1]

    @classmethod
    def load(cls, path: str | Path | None = None) -> Vocabulary:
        """The shipped vocabulary, or one written by `save`; a bad file raises VocabularyError."""
        path = Path(path) if path else DEFAULT_VOCABULARY
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data['format']) != FORMAT:
                    raise VocabularyError(f'{path}: format {data["format"]}, expected {FORMAT}')
                return cls(data['words'], data['idf'])
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as err:
            if isinstance(err, VocabularyError):
                raise
            raise VocabularyError(f'{path}: not a vocabulary file ({err})') from None

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, format=np.str_(FORMAT), words=self.words, idf=self.idf)

    def assign(self, descriptors: np.ndarray) -> np.ndarray:
        """The nearest word (Hamming) of each descriptor."""
        if len(descriptors) == 0:
            return np.zeros(0, int)
        if descriptors.shape[1] != self.descriptor_size or descriptors.dtype != np.uint8:
            raise ValueError(
                f'descriptors of {descriptors.shape[1]} bytes ({descriptors.dtype}) do not fit '
                f'a vocabulary of {self.descriptor_size}-byte binary words'
            )
        matches = self._matcher.match(np.ascontiguousarray(descriptors), self.words)
        out = np.empty(len(matches), int)
        for m in matches:
            out[m.queryIdx] = m.trainIdx
        return out

    def vector(self, descriptors: np.ndarray) -> np.ndarray:
        """The L2-normalised TF-IDF place vector (K,) float32; zeros for no descriptors."""
        return self.vector_of_words(self.assign(descriptors))

    def prepare(self, descriptors: np.ndarray) -> np.ndarray:
        """Each descriptor's word, once for descriptors shared by many places."""
        return self.assign(descriptors)

    def vector_of(self, prepared: np.ndarray, rows) -> np.ndarray:
        """The place vector of the prepared rows (see `prepare`)."""
        return self.vector_of_words(prepared[rows])

    def vector_of_words(self, words: np.ndarray) -> np.ndarray:
        """The place vector of descriptors already assigned to words (see `vector`)."""
        counts = np.bincount(words, minlength=self.size).astype(np.float32)
        v = counts * self.idf
        norm = float(np.linalg.norm(v))
        return v / norm if norm > 0 else v


def _majority(bits: np.ndarray, labels: np.ndarray, k: int, old: np.ndarray) -> np.ndarray:
    """Centre bits by majority vote of each cluster's members; empty clusters keep theirs."""
    order = np.argsort(labels, kind='stable')
    sorted_labels = labels[order]
    starts = np.searchsorted(sorted_labels, np.arange(k))
    ends = np.searchsorted(sorted_labels, np.arange(k), side='right')
    sums = np.add.reduceat(bits[order].astype(np.uint32), np.minimum(starts, len(bits) - 1))
    sizes = ends - starts
    centres = np.unpackbits(old, axis=1)
    filled = sizes > 0
    centres[filled] = (2 * sums[filled] >= sizes[filled, None]).astype(np.uint8)
    return np.packbits(centres, axis=1)


def _seed_words(descriptors: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding under the Hamming distance: each new word drawn with probability
    proportional to the squared distance to the nearest word so far (no two seeds in one
    cluster, unlike a uniform draw)."""
    words = [descriptors[rng.integers(len(descriptors))]]
    nearest = distances(descriptors, words[0]).astype(np.float64)
    for _ in range(k - 1):
        weights = nearest**2
        pick = rng.choice(len(descriptors), p=weights / weights.sum()) if weights.sum() else 0
        words.append(descriptors[pick])
        distance = distances(descriptors, descriptors[pick])
        np.minimum(nearest, distance, out=nearest)
    return np.array(words)


def train(
    descriptor_sets: list[np.ndarray],
    k: int = 1024,
    iterations: int = 12,
    seed: int = 0,
    max_descriptors: int = 600_000,
    progress: bool = False,
) -> Vocabulary:
    """k-majority clustering of the descriptors (a random subset of max_descriptors when there
    are more) from a k-means++ seeding, and IDF over all the sets (one set per image).

    Raises:
        ValueError: fewer descriptors than words.
    """
    descriptors = np.concatenate([d for d in descriptor_sets if len(d)])
    if len(descriptors) < k:
        raise ValueError(f'{len(descriptors)} descriptors cannot make {k} words')
    rng = np.random.default_rng(seed)
    if len(descriptors) > max_descriptors:
        descriptors = descriptors[rng.choice(len(descriptors), max_descriptors, replace=False)]
    seeding = descriptors[rng.choice(len(descriptors), min(len(descriptors), 100_000), False)]
    words = _seed_words(seeding, k, rng)
    bits = np.unpackbits(descriptors, axis=1)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    steps = range(iterations)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc='k-majority')
    for _ in steps:
        matches = matcher.match(descriptors, words)
        labels = np.array([m.trainIdx for m in matches])
        new = _majority(bits, labels, k, words)
        # A word no descriptor chose (a second seed in one cluster) moves to the descriptors
        # farthest from their words: a cluster that had no seed gets one.
        empty = np.setdiff1d(np.arange(k), labels)
        if len(empty):
            far = np.argsort([-m.distance for m in matches], kind='stable')[: len(empty)]
            new[empty] = descriptors[far]
        if np.array_equal(new, words):
            break
        words = new
    vocab = Vocabulary(words, np.ones(k, np.float32))
    documents = np.zeros(k, np.float32)
    for d in descriptor_sets:
        if len(d):
            documents[np.unique(vocab.assign(d))] += 1
    n = sum(1 for d in descriptor_sets if len(d))
    vocab.idf = np.log((n + 1) / (documents + 1)).astype(np.float32)
    return vocab
