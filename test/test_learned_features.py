"""The learned extractor (onnxruntime) and the VLAD place vectors of its descriptors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from astro_slam.backend.place_model import PlaceModelError, load_place_model
from astro_slam.backend.vlad import DEFAULT_VLAD, VladEncoder, VladError, train_vlad
from astro_slam.backend.vocabulary import Vocabulary
from astro_slam.learned.extractor import DEFAULT_MODEL, INT8_MODEL, LearnedExtractor, ModelError
from astro_slam.learned.judge import mutual_matches
from astro_slam.vo.features import make_extractor


def scene(seed: int = 0, shape: tuple[int, int] = (480, 640)) -> np.ndarray:
    """A grey image of random rectangles, circles and lines: corners everywhere."""
    rng = np.random.default_rng(seed)
    image = np.full(shape, 128, np.uint8)
    for _ in range(150):
        colour = int(rng.integers(0, 256))
        x, y = int(rng.integers(0, shape[1])), int(rng.integers(0, shape[0]))
        kind = rng.integers(3)
        if kind == 0:
            w, h = rng.integers(10, 80, 2)
            cv2.rectangle(image, (x, y), (x + int(w), y + int(h)), colour, -1)
        elif kind == 1:
            cv2.circle(image, (x, y), int(rng.integers(5, 40)), colour, -1)
        else:
            end = (x + int(rng.integers(-90, 90)), y + int(rng.integers(-90, 90)))
            cv2.line(image, (x, y), end, colour, int(rng.integers(1, 4)))
    return cv2.GaussianBlur(image, (3, 3), 0)


@pytest.fixture(scope='module')
def extractor() -> LearnedExtractor:
    return LearnedExtractor(max_features=500)


@pytest.fixture(scope='module')
def int8_extractor() -> LearnedExtractor:
    return LearnedExtractor(max_features=500, model='int8')


def test_shipped_model_is_small_and_carries_its_licence():
    assert DEFAULT_MODEL.stat().st_size <= 10 * 2**20
    assert INT8_MODEL.stat().st_size <= 10 * 2**20
    notice = DEFAULT_MODEL.with_name('NOTICE').read_text()
    assert 'XFeat' in notice and 'Apache' in notice
    assert 'Apache License' in DEFAULT_MODEL.with_name('LICENSE-XFeat').read_text()


def test_extracts_spread_binary_features(extractor):
    image = scene()
    f = extractor.extract(image)
    assert 200 <= len(f) <= 500
    assert f.descriptors.shape == (len(f), 32) and f.descriptors.dtype == np.uint8
    assert np.all(f.octave == 0)
    assert np.all((f.xy >= 0) & (f.xy < [640, 480]))
    # The 8x6 grid spreads them: no image quarter is empty.
    for qx in (0, 1):
        for qy in (0, 1):
            inside = (f.xy[:, 0] // 320 == qx) & (f.xy[:, 1] // 240 == qy)
            assert inside.sum() > 20
    again = extractor.extract(image)
    assert np.array_equal(f.xy, again.xy) and np.array_equal(f.descriptors, again.descriptors)


def _correct_share(fa, fb, shift: np.ndarray) -> tuple[int, float]:
    pairs = mutual_matches(fa.descriptors, fb.descriptors)
    error = np.linalg.norm(fa.xy[pairs[:, 0]] + shift - fb.xy[pairs[:, 1]], axis=1)
    return len(pairs), float(np.mean(error <= 2.0)) if len(pairs) else 0.0


@pytest.mark.parametrize('seed', [1, 2])
@pytest.mark.parametrize('network', ['float', 'int8'])
def test_descriptors_match_a_shifted_and_darkened_copy(extractor, int8_extractor, network, seed):
    """The same scene 24 px to the right, at a quarter of the brightness with sensor noise:
    most mutual matches land where the shift puts them."""
    extractor = int8_extractor if network == 'int8' else extractor
    image = scene(seed, (480 + 32, 640 + 32))
    a = image[:480, 32:672]
    rng = np.random.default_rng(seed)
    dark = image[:480, 8:648].astype(np.float32) * 0.25 + rng.normal(0, 2.0, (480, 640))
    b = np.clip(dark, 0, 255).astype(np.uint8)
    n, share = _correct_share(extractor.extract(a), extractor.extract(b), np.array([24.0, 0.0]))
    assert n > 100
    assert share > 0.8


def test_the_8_bit_network_finds_the_float_ones_features(extractor, int8_extractor):
    """Quantization moves some scores across the selection and flips a few bits; most
    keypoints and bits stay (random bits would differ in half of 256)."""
    image = scene(4)
    f, q = extractor.extract(image), int8_extractor.extract(image)
    gap = np.linalg.norm(f.xy[:, None] - q.xy[None], axis=2)
    nearest = gap.argmin(axis=1)
    same = gap[np.arange(len(f)), nearest] <= 1.0
    assert same.mean() > 0.6
    flipped = np.unpackbits(f.descriptors[same] ^ q.descriptors[nearest[same]], axis=1)
    assert np.median(flipped.sum(axis=1)) <= 16


def test_quantization_writes_a_model_the_extractor_runs(tmp_path, extractor):
    """quantize.py (the `train` extra: onnx) on one training view pair."""
    pytest.importorskip('onnx')
    from astro_slam.learned.quantize import quantize

    out = tmp_path / 'int8.onnx'
    assert quantize(DEFAULT_MODEL, out, (400,), 1) == 2
    quantized = LearnedExtractor(max_features=500, model=out)
    image = scene(5)
    n, share = _correct_share(extractor.extract(image), quantized.extract(image), np.zeros(2))
    assert n > 200 and share > 0.9


def test_any_image_size_is_cropped_to_the_network_grid(extractor):
    f = extractor.extract(scene(3, (250, 333)))
    assert len(f) > 0 and np.all(f.xy < [320, 224])
    with pytest.raises(ValueError, match='smaller than 32'):
        extractor.extract(np.zeros((20, 640), np.uint8))
    assert len(extractor.extract(np.zeros((480, 640), np.uint8))) == 0


def test_bad_model_files_raise_model_error(tmp_path):
    with pytest.raises(ModelError, match='no such model'):
        LearnedExtractor(model=tmp_path / 'missing.onnx')
    bad = tmp_path / 'bad.onnx'
    bad.write_bytes(b'\x08\x07not really a model' * 10)
    with pytest.raises(ModelError, match='cannot load'):
        LearnedExtractor(model=bad)
    with pytest.raises(ValueError, match='available'):
        make_extractor('sift', 100)
    assert isinstance(make_extractor('learned', 100), LearnedExtractor)
    assert make_extractor('learned', 100, 'int8').model_path == INT8_MODEL


def test_sampling_matches_the_training_code():
    """extractor.sample_logits (numpy, at run time) and network.sample_cells (PyTorch, in
    training) give the same values: the bits the robot uses are the ones that were trained."""
    torch = pytest.importorskip('torch')
    from astro_slam.learned.extractor import sample_logits
    from astro_slam.learned.network import sample_cells

    rng = np.random.default_rng(0)
    dense = rng.normal(size=(5, 6, 8)).astype(np.float32)
    xy = np.vstack([rng.uniform(0, [63, 47], (50, 2)), [[0, 0], [63, 47], [3.5, 40]]])
    xy = xy.astype(np.float32)
    expected = sample_cells(torch.from_numpy(dense), torch.from_numpy(xy)).numpy()
    np.testing.assert_allclose(sample_logits(dense, xy), expected, atol=1e-5)


# VLAD place vectors


def _descriptor_sets(seed: int, n_sets: int = 6) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (200, 32), dtype=np.uint8) for _ in range(n_sets)]


def test_vlad_vectors_are_unit_and_tell_places_apart():
    encoder = train_vlad(_descriptor_sets(0), k=8)
    assert encoder.size == 8 * 256 and encoder.descriptor_size == 32
    a, b = _descriptor_sets(1, 2)
    va, vb = encoder.vector(a), encoder.vector(b)
    assert abs(np.linalg.norm(va) - 1) < 1e-5
    # The same place seen again with a fifth of each descriptor's bits flipped, against
    # another place.
    rng = np.random.default_rng(2)
    flips = np.packbits(rng.random((200, 256)) < 0.05, axis=1)
    again = encoder.vector(a ^ flips)
    assert float(va @ again) > float(va @ vb) + 0.2
    assert not np.any(encoder.vector(np.zeros((0, 32), np.uint8)))
    # Prepared once, any subset: the same vector as computing it directly.
    prepared = encoder.prepare(np.vstack([a, b]))
    np.testing.assert_allclose(encoder.vector_of(prepared, np.arange(200)), va, atol=1e-6)
    with pytest.raises(ValueError, match='do not fit'):
        encoder.vector(np.zeros((3, 16), np.uint8))


def test_place_models_load_by_format(tmp_path):
    assert isinstance(load_place_model('', 'orb'), Vocabulary)
    learned = load_place_model('', 'learned')
    assert isinstance(learned, VladEncoder) and learned.descriptor_size == 32
    encoder = VladEncoder.load(DEFAULT_VLAD)
    encoder.save(tmp_path / 'v.npz')
    assert isinstance(load_place_model(tmp_path / 'v.npz', 'orb'), VladEncoder)
    np.savez(tmp_path / 'other.npz', format=np.str_('something/1'), words=np.zeros(3))
    with pytest.raises(PlaceModelError, match='neither'):
        load_place_model(tmp_path / 'other.npz')
    (tmp_path / 'junk.npz').write_bytes(b'junk')
    with pytest.raises(PlaceModelError, match='not a place model'):
        load_place_model(tmp_path / 'junk.npz')
    with pytest.raises(VladError):
        VladEncoder.load(tmp_path / 'other.npz')


def test_the_backend_refuses_a_map_of_other_descriptors(tmp_path):
    from astro_mapping.layers import LongTermMap
    from astro_mapping.store import save
    from astro_slam.backend.component import Backend
    from astro_slam.backend.config import BackendConfig
    from astro_slam.framework.graph import Graph

    path = tmp_path / 'home.db'
    save(LongTermMap.empty(0.05), path)  # an ORB map
    learned = Graph(strict=False).add(
        Backend, BackendConfig(map_path=str(path), features='learned')
    )
    assert 'holds orb descriptors but features is learned' in learned.map_error
    assert isinstance(learned.core.vocabulary, VladEncoder)
    orb = Graph(strict=False).add(Backend, BackendConfig(map_path=str(path)))
    assert orb.map_error == '' and isinstance(orb.core.vocabulary, Vocabulary)
