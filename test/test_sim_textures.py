"""Procedural textures: deterministic per (kind, seed), distinct across seeds, rich in corners."""

from __future__ import annotations

import hashlib
from functools import cache

import cv2
import numpy as np
import pytest

from astro_slam.sim.textures import TEXTURE_KINDS, make_texture, repaint

# sha256 prefixes of make_texture(kind, 0): pixels must be the same on every machine. Update
# them only when a texture is changed on purpose.
DIGESTS = {
    'wood': '04ae031766e36638',
    'tiles': '11443ece602931b7',
    'rug': 'f315b85c11ce6455',
    'paint': '2f6eace8ac6d6d30',
    'poster': 'cc5acd344c4b20e1',
    'picture': '3c95a621b87b5c72',
    'books': '1992d0380db66289',
    'fabric': 'e9ae025c4d4bc173',
    'counter': 'd9454d9036a94ecc',
    'skin': '290a01c5fbc9c0e6',
    'cardboard': 'fa5eefb8e4f2afb0',
}


@cache
def texture(kind: str, seed: int) -> np.ndarray:
    img = make_texture(kind, seed)
    img.flags.writeable = False
    return img


def grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def gradient_magnitude(img: np.ndarray) -> np.ndarray:
    g = grey(img).astype(np.float32)
    return cv2.magnitude(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)).ravel()


@pytest.mark.parametrize('kind', TEXTURE_KINDS)
def test_same_kind_and_seed_give_identical_pixels(kind: str) -> None:
    img = make_texture(kind, 7)
    assert img.shape == (512, 512, 3)
    assert img.dtype == np.uint8
    assert np.array_equal(img, make_texture(kind, 7))


@pytest.mark.parametrize('kind', TEXTURE_KINDS)
def test_pixels_match_recorded_digests(kind: str) -> None:
    assert hashlib.sha256(texture(kind, 0).tobytes()).hexdigest()[:16] == DIGESTS[kind]


@pytest.mark.parametrize('kind', TEXTURE_KINDS)
def test_other_seeds_look_clearly_different(kind: str) -> None:
    a, b = texture(kind, 0).astype(np.int16), texture(kind, 1).astype(np.int16)
    assert np.abs(a - b).mean() > 5


@pytest.mark.parametrize('size', [64, 200, 333])
def test_every_kind_has_the_requested_size(size: int) -> None:
    for kind in TEXTURE_KINDS:
        img = make_texture(kind, 3, size)
        assert img.shape == (size, size, 3)
        assert img.dtype == np.uint8


def test_unknown_kind_raises() -> None:
    with pytest.raises(ValueError, match='marble'):
        make_texture('marble', 0)


@pytest.mark.parametrize('kind', [k for k in TEXTURE_KINDS if k != 'paint'])
def test_orb_finds_plenty_of_corners(kind: str) -> None:
    orb = cv2.ORB_create(500)
    counts = [len(orb.detect(grey(texture(kind, seed)), None)) for seed in range(5)]
    assert min(counts) >= 100, counts


def test_paint_is_weak_but_not_flat() -> None:
    for seed in range(5):
        std = float(grey(texture('paint', seed)).std())
        assert 2 < std < 8, (seed, std)


@pytest.mark.parametrize('kind', ['paint', 'tiles', 'wood', 'fabric'])
def test_repaint_keeps_structure_and_changes_colour(kind: str) -> None:
    for seed in range(2):
        img = texture(kind, seed)
        new = repaint(img, 100 + seed)
        assert new.shape == img.shape
        assert new.dtype == np.uint8
        assert np.array_equal(new, repaint(img, 100 + seed))
        assert np.corrcoef(gradient_magnitude(img), gradient_magnitude(new))[0, 1] > 0.5
        shift = np.abs(new.reshape(-1, 3).mean(0) - img.reshape(-1, 3).mean(0)).sum()
        assert shift > 40, shift
