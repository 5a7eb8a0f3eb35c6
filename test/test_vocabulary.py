"""The binary vocabulary: k-majority training, place vectors, and safe loading."""

from __future__ import annotations

import numpy as np
import pytest

from astro_slam.backend.place_index import PlaceIndex
from astro_slam.backend.vocabulary import DEFAULT_VOCABULARY, Vocabulary, VocabularyError, train


def _flip(rng, centre: np.ndarray, n: int, bits: int) -> np.ndarray:
    """n descriptors `bits` random bits away from centre."""
    out = np.repeat(np.unpackbits(centre)[None], n, axis=0)
    for row in out:
        row[rng.choice(256, bits, replace=False)] ^= 1
    return np.packbits(out, axis=1)


def test_training_finds_the_clusters_and_places_tell_apart():
    rng = np.random.default_rng(0)
    centres = rng.integers(0, 256, (16, 32), dtype=np.uint8)
    # 40 images, each made of descriptors around 4 of the 16 centres.
    images = [
        np.vstack([_flip(rng, centres[c], 20, 10) for c in rng.choice(16, 4, replace=False)])
        for _ in range(40)
    ]
    vocab = train(images, k=16, iterations=10)
    words = vocab.assign(np.vstack([_flip(rng, c, 5, 10) for c in centres]))
    # Each centre's noisy copies land in one word, and different centres in different words.
    per_centre = words.reshape(16, 5)
    assert all(len(set(row)) == 1 for row in per_centre)
    assert len(set(per_centre[:, 0])) == 16
    index = PlaceIndex(vocab.size)
    for image in images:
        index.add(vocab.vector(image))
    again = vocab.vector(np.vstack([_flip(rng, d, 1, 4) for d in images[7]]))
    assert index.search(again, 1)[0][0] == 7


def test_shipped_vocabulary_loads_and_round_trips(tmp_path):
    vocab = Vocabulary.load()
    assert vocab.size == 1024 and vocab.descriptor_size == 32
    assert np.all(np.isfinite(vocab.idf)) and np.all(vocab.idf >= 0)
    vocab.save(tmp_path / 'v.npz')
    again = Vocabulary.load(tmp_path / 'v.npz')
    assert np.array_equal(again.words, vocab.words)
    assert DEFAULT_VOCABULARY.stat().st_size < 200_000


@pytest.mark.parametrize('content', [b'', b'not a zip', b'PK\x03\x04garbage'])
def test_a_corrupt_vocabulary_is_a_clear_error(tmp_path, content):
    path = tmp_path / 'bad.npz'
    path.write_bytes(content)
    with pytest.raises(VocabularyError):
        Vocabulary.load(path)


def test_a_foreign_npz_is_refused(tmp_path):
    np.savez(tmp_path / 'other.npz', words=np.zeros((4, 32), np.uint8))
    with pytest.raises(VocabularyError, match='not a vocabulary'):
        Vocabulary.load(tmp_path / 'other.npz')
    with pytest.raises(VocabularyError):
        Vocabulary.load(tmp_path / 'missing.npz')
