"""Stereo depth of the VO's keypoints against the depth the simulator renders.

For every tenth stereo pair of a simulated `home-day` patrol: the VO's own preprocessing (noisy
images smoothed, then CLAHE), ORB keypoints and stereo association (`StereoDepth`), compared at
each keypoint with the home rendered without people at the true pose. Keypoints on depth edges (the
rendered 3x3 neighbourhood spans over 3 %) and those more than 20 % off (people, who are not
rendered) are left out. Reports the disparity error (estimated minus true, px) and the depth ratio
per depth band: a bias here becomes a scale error of the VO.

    python benchmarks/stereo_depth.py --seeds 0 1 2 --duration-s 30 --window-sigma-px 0 3
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from datetime import date
from pathlib import Path

import cv2
import numpy as np
from common import RenderedDepth, machine

from astro_slam.msgs.time import header_ns
from astro_slam.sim.rig import Rig
from astro_slam.sim.scenarios import SCENARIOS
from astro_slam.sim.simulate import simulate
from astro_slam.tools.bag_io import BagReader
from astro_slam.vo.association import StereoDepth
from astro_slam.vo.camera_input import to_gray
from astro_slam.vo.config import VisualOdometryConfig
from astro_slam.vo.features import make_extractor
from astro_slam.vo.image_quality import Normaliser, as_vo_sees

BANDS_M = ((0.4, 1.5), (1.5, 3.0), (3.0, 6.0))
TOPICS = {'/camera/left/image_raw/compressed', '/camera/right/image_raw/compressed'}


def stereo_pairs(bag: Path, every: int) -> list[tuple[object, object]]:
    pairs: dict[int, dict[str, object]] = {}
    with BagReader(bag) as reader:
        for topic, t, msg in reader.messages(TOPICS):
            pairs.setdefault(t, {})[topic.split('/')[2]] = msg
    ordered = [pairs[t] for t in sorted(pairs) if len(pairs[t]) == 2]
    return [(p['left'], p['right']) for p in ordered[::every]]


def errors(
    session: Path, bag: Path, every: int, window_sigma_px: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true depth m, disparity error px, beside a nearer surface) of every keypoint judged;
    beside a nearer surface: the rendered 11x11 neighbourhood holds a depth 5 % nearer, which
    an 11x11 matching window takes in."""
    config = VisualOdometryConfig()
    rig = Rig()
    K = rig.intrinsics.K
    focal_baseline = rig.intrinsics.fx * rig.baseline_m
    stereo = StereoDepth(
        focal_baseline, config.min_depth_m, config.max_depth_m, window_sigma_px=window_sigma_px
    )
    normalise = Normaliser(config.normalisation)
    extractor = make_extractor('orb', config.max_features)
    depths, disparity_errors, beside = [], [], []
    with RenderedDepth(session, bag.name) as truth:
        for left_msg, right_msg in stereo_pairs(bag, every):
            left, right = as_vo_sees(
                [to_gray(left_msg), to_gray(right_msg)],
                normalise,
                config.denoise_target_noise,
                config.denoise_max_px,
            )
            features = extractor.extract(left)
            z_est = stereo(left, right, features, K)[:, 2]
            depth = truth.image(header_ns(left_msg))
            z, flat = truth.sample(depth, features.xy)
            nearest = cv2.erode(depth, np.ones((11, 11), np.uint8))
            u, v = np.round(features.xy).astype(int).T
            u = np.clip(u, 0, nearest.shape[1] - 1)
            v = np.clip(v, 0, nearest.shape[0] - 1)
            ok = np.isfinite(z_est) & np.isfinite(z) & flat
            ok[ok] &= np.abs(z_est[ok] - z[ok]) < 0.2 * z[ok]
            depths.append(z[ok])
            disparity_errors.append(focal_baseline / z_est[ok] - focal_baseline / z[ok])
            beside.append(nearest[v[ok], u[ok]] < 0.95 * z[ok])
    return np.concatenate(depths), np.concatenate(disparity_errors), np.concatenate(beside)


def summary(
    seed: int,
    light: float,
    window: float,
    z: np.ndarray,
    error: np.ndarray,
    beside: np.ndarray,
    fb: float,
) -> dict:
    def stats(mask: np.ndarray) -> dict:
        e = error[mask]
        ratio = fb / (fb / z[mask] + e) / z[mask]  # estimated over true depth
        return {
            'keypoints': int(mask.sum()),
            'disparity_error_median_px': round(float(np.median(e)), 3),
            'disparity_error_mean_px': round(float(np.mean(e)), 3),
            'disparity_error_std_px': round(float(np.std(e)), 3),
            'depth_ratio_median': round(float(np.median(ratio)), 4),
        }

    bands = {f'{lo:g}-{hi:g} m': stats((z >= lo) & (z < hi)) for lo, hi in BANDS_M}
    return {
        'home_seed': seed,
        'light': light,
        'stereo_window_sigma_px': window,
        'all': stats(np.ones(len(z), bool)),
        'beside a nearer surface': stats(beside),
        'elsewhere': stats(~beside),
        **bands,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--duration-s', type=float, default=30.0)
    parser.add_argument('--lights', type=float, nargs='+', default=[1.0])
    parser.add_argument('--every', type=int, default=10, help='judge every n-th stereo pair')
    parser.add_argument(
        '--window-sigma-px',
        type=float,
        nargs='+',
        default=[VisualOdometryConfig().stereo_window_sigma_px],
        help='stereo_window_sigma_px values to compare on the same pairs (0: Lucas-Kanade)',
    )
    args = parser.parse_args()
    rig = Rig()
    focal_baseline = rig.intrinsics.fx * rig.baseline_m
    base = SCENARIOS['home-day']
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for light in args.lights:
                spec = dataclasses.replace(
                    base.sessions[0], duration_s=args.duration_s, dimming=light
                )
                name = f'home{seed}-light{light:g}'
                scenario = dataclasses.replace(base, name=name, sessions=(spec,))
                simulate(scenario, seed, seed, Path(tmp), overwrite=True, progress=False)
                session = Path(tmp) / name
                for window in args.window_sigma_px:
                    z, error, beside = errors(session, session / spec.name, args.every, window)
                    row = summary(seed, light, window, z, error, beside, focal_baseline)
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    print(json.dumps({'date': date.today().isoformat(), 'machine': machine(), 'rows': rows}))


if __name__ == '__main__':
    main()
