"""Reproduces the shipped 8-bit feature model (data/xfeat_binary_int8.onnx) from the float one.

    pip install ".[train]"
    python -m astro_slam.learned.quantize

Static quantization by onnxruntime: convolution weights to signed 8 bits per output channel,
their inputs to unsigned 8 bits, with ranges calibrated on views of the training homes
(every other one of train.TRAINING_HOMES, under the training's lights, furniture moved in
half) prepared as the robot prepares them (the VO's smoothing and CLAHE, the extractor's
low-pass filter). Ranges are the 99.999th percentiles, not the extremes: a few extreme values
otherwise widen a range and coarsen the steps of every other value. Convolutions are most of
the network's time on the CPU, and 8-bit ones are faster where it has integer dot products
(AVX-VNNI, AVX512-VNNI). Left in float: the first block (it reads the image, whose contrast in
dim light spans a few steps of 8 bits), the last convolution of the keypoint and reliability
heads (their outputs are thresholded), the descriptor head (its signs are the bits), and
everything after the convolutions. On the validation homes, every convolution in 8 bits with
ranges at the extremes lost 20 % of the correct day / dim matches; this loses 7 %
(docs/BENCHMARKS.md). Deterministic: the same views give the same file.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from astro_slam.learned.extractor import DEFAULT_MODEL, INT8_MODEL, network_input
from astro_slam.learned.train import TRAINING_HOMES, VALIDATION_HOMES, validate, views_of

# Name prefixes of the convolutions left in float (above).
FLOAT_CONVOLUTIONS = (
    '/xfeat/block1/',
    '/xfeat/skip1/',
    '/xfeat/heatmap_head/heatmap_head.2/',
    '/xfeat/keypoint_head/keypoint_head.3/',
    '/binary_head/',
)


def calibration_images(homes: tuple[int, ...], per_home: int):
    """Network inputs of both views of `per_home` pairs per home, as the robot makes them."""
    from astro_slam.vo.config import VisualOdometryConfig
    from astro_slam.vo.image_quality import Normaliser, as_vo_sees

    vo = VisualOdometryConfig()
    clahe = Normaliser(vo.normalisation)
    for _, a, b in views_of(homes, per_home):
        for view in (a, b):
            image = as_vo_sees([view.gray], clahe, vo.denoise_target_noise, vo.denoise_max_px)[0]
            yield network_input(image)


def quantize(source: Path, out: Path, homes: tuple[int, ...], per_home: int) -> int:
    """Writes the 8-bit model; returns the number of calibration images."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    images = list(calibration_images(homes, per_home))

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = iter(images)

        def get_next(self) -> dict | None:
            image = next(self.left, None)
            return None if image is None else {'image': image}

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / 'prepared.onnx'
        # Folds and fuses the graph first, so that calibration sees the tensors that run.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        keep_float = [
            node.name
            for node in onnx.load(str(prepared)).graph.node
            if node.op_type == 'Conv' and node.name.startswith(FLOAT_CONVOLUTIONS)
        ]
        quantize_static(
            str(prepared),
            str(out),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=['Conv'],
            nodes_to_exclude=keep_float,
            calibrate_method=CalibrationMethod.Percentile,
        )
    return len(images)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--source', type=Path, default=DEFAULT_MODEL, help='the float model')
    parser.add_argument('--out', type=Path, default=INT8_MODEL, help='.onnx file to write')
    parser.add_argument('--homes', type=int, nargs='+', default=TRAINING_HOMES[::2])
    parser.add_argument('--pairs-per-home', type=int, default=4)
    args = parser.parse_args(argv)

    count = quantize(args.source, args.out, tuple(args.homes), args.pairs_per_home)
    report = {
        'source': args.source.name,
        'calibration_images': count,
        'calibration_homes': list(args.homes),
        'validation_day_vs_near_dark': validate(args.out, VALIDATION_HOMES, 10),
    }
    print(json.dumps(report, indent=1))
    args.out.with_suffix('.json').write_text(json.dumps(report, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
