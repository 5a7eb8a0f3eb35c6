"""The learned extractor: XFeat keypoints with 256-bit descriptors, run by onnxruntime on the CPU.

The network (network.py, exported by train.py) gives keypoint scores after non-maximum
suppression and 256 descriptor logits per 8x8 cell. Here the strongest keypoints are spread
over the image grid like ORB's, and each gets the signs of its bilinearly interpolated logits,
packed into 32 bytes: a binary descriptor matched by Hamming distance like ORB's.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from astro_slam.vo.features import Features, spread

DEFAULT_MODEL = Path(__file__).with_name('data') / 'xfeat_binary.onnx'
# The same network with most convolutions in 8 bits (quantize.py): faster, a little less exact.
INT8_MODEL = DEFAULT_MODEL.with_name('xfeat_binary_int8.onnx')
SHIPPED_MODELS = {'': DEFAULT_MODEL, 'int8': INT8_MODEL}
# The network sees the image low-passed. XFeat's keypoint head reads raw 8x8 pixel cells, and
# sensor noise (strong in dim light, where the gain is high) otherwise makes keypoints of
# noise: on validation homes this alone doubled the correct day / near-dark matches. The
# training applies the same filter.
INPUT_BLUR_SIGMA_PX = 1.5
MIN_SCORE = 0.002  # least keypoint score (probability times reliability); training uses it too


class ModelError(RuntimeError):
    """The model file is missing, corrupt or not the learned feature network."""


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle pool threads would otherwise spin after each frame, taking the cores the rest of
    # the VO (stereo, PnP) runs on next: measured, it doubled the time per frame.
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    try:
        session = ort.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
    except Exception as err:  # onnxruntime raises its own classes for a bad file
        raise ModelError(f'{path}: cannot load the feature model ({err})') from None
    inputs = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    if inputs != ['image'] or outputs != ['scores', 'logits']:
        raise ModelError(f'{path}: inputs {inputs} and outputs {outputs} are not the feature net')
    return session


class LearnedExtractor:
    """Keypoints and 32-byte binary descriptors from the shipped (or a given) ONNX model.

    Args:
        max_features: keypoints kept, spread over a grid_cols x grid_rows grid.
        model: the .onnx file, or the name of a shipped one: '' or None for the float
            network, 'int8' for its 8-bit version.
        threshold: least keypoint score (probability times reliability) of a keypoint.
        threads: onnxruntime intra-op threads; 0 for one per core, at most 4.
        input_scale: the network runs on the image resized by this factor (keypoints are
            scaled back): 0.8 takes a third less time (benchmarks/learned_features.py).
    """

    descriptor_size = 32
    binary = True
    scale_factor = 1.0  # one scale: octave is always 0

    def __init__(
        self,
        max_features: int = 800,
        model: str | Path | None = None,
        threshold: float = MIN_SCORE,
        grid_cols: int = 8,
        grid_rows: int = 6,
        threads: int = 0,
        input_scale: float = 1.0,
    ) -> None:
        if not 0.25 <= input_scale <= 1.0:
            raise ValueError(f'input_scale must be in [0.25, 1], not {input_scale}')
        name = str(model or '')
        path = SHIPPED_MODELS[name] if name in SHIPPED_MODELS else Path(name)
        if not path.is_file():
            raise ModelError(f'{path}: no such model file')
        self.model_path = path
        self.max_features = max_features
        self.threshold = threshold
        self.grid = (grid_cols, grid_rows)
        self.input_scale = input_scale
        self.session = _session(path, threads or min(4, os.cpu_count() or 1))

    def dense(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores (H', W') and logits (256, H'/8, W'/8) of the image cropped to multiples of 32."""
        scores, logits = self.session.run(None, {'image': network_input(gray)})
        return scores[0, 0], logits[0]

    def extract(self, gray: np.ndarray) -> Features:
        s = self.input_scale
        if s != 1.0:
            gray = cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        scores, logits = self.dense(gray)
        v, u = np.nonzero(scores > self.threshold)
        if len(u) == 0:
            return Features.empty(self.descriptor_size)
        xy = np.column_stack([u, v]).astype(np.float32)
        keep = spread(xy, scores[v, u], scores.shape, self.grid, self.max_features)
        xy = xy[keep]
        descriptors = describe(logits, xy)
        if s != 1.0:  # pixel centres: x_full + 0.5 = (x_small + 0.5) / s
            xy = (xy + 0.5) / s - 0.5
        return Features(xy, np.zeros(len(xy), int), descriptors)


def network_input(gray: np.ndarray) -> np.ndarray:
    """(1, 1, H', W') float32: the grey image low-passed and cropped to multiples of 32."""
    h, w = (gray.shape[0] // 32) * 32, (gray.shape[1] // 32) * 32
    if h == 0 or w == 0:
        raise ValueError(f'image {gray.shape} is smaller than 32 x 32 pixels')
    image = cv2.GaussianBlur(gray[:h, :w], (0, 0), INPUT_BLUR_SIGMA_PX)
    return np.ascontiguousarray(image, np.float32)[None, None]


def sample_logits(logits: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear logits (N, C) at pixels xy of the full image, sampled as in training
    (network.sample_cells: XFeat's pixel-to-cell mapping, borders clamped)."""
    c, hf, wf = logits.shape
    fx = np.clip(xy[:, 0] * wf / (8 * wf - 1) - 0.5, 0.0, wf - 1.0)
    fy = np.clip(xy[:, 1] * hf / (8 * hf - 1) - 0.5, 0.0, hf - 1.0)
    x0 = np.minimum(fx.astype(int), max(wf - 2, 0))
    y0 = np.minimum(fy.astype(int), max(hf - 2, 0))
    x1 = np.minimum(x0 + 1, wf - 1)
    y1 = np.minimum(y0 + 1, hf - 1)
    ax = (fx - x0)[:, None].astype(np.float32)
    ay = (fy - y0)[:, None].astype(np.float32)
    # One cell per row, so that each keypoint gathers four contiguous rows.
    cells = np.ascontiguousarray(logits.reshape(c, -1).T)
    top = cells[y0 * wf + x0] * (1 - ax) + cells[y0 * wf + x1] * ax
    bottom = cells[y1 * wf + x0] * (1 - ax) + cells[y1 * wf + x1] * ax
    return top * (1 - ay) + bottom * ay


def describe(logits: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Packed sign bits (N, 32) uint8 of the logits at xy."""
    return np.packbits(sample_logits(logits, xy) > 0, axis=1)
