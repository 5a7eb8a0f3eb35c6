"""Where the stereo VO's distance shortfall comes from: the VO replayed with its stereo depth
replaced by the depth the simulator renders, alone or with noise.

For each home seed, one 30 s daylight `home-day` patrol, replayed through dead_reckoning +
visual_odometry as `vo_accuracy.py` does, once per depth source of the keyframes' keypoints:

- `stereo`: the VO as shipped (block matching, then Lucas-Kanade).
- `rendered`: the rendered depth at every keypoint in range (the home without people, so a
  keypoint on a person gets the depth behind them, and the VO drops it as moving).
- `rendered_where_stereo`: the rendered depth, only at the keypoints stereo gave a depth.
- `rendered_gaussian`: the rendered depth at the keypoints where stereo gave a depth on a flat
  surface (rendered 3x3 neighbourhood within 3 %, stereo within 10 %), with Gaussian disparity
  noise of the standard deviation stereo showed there in the same frame.
- `stereo_errors_random_sign`: the same keypoints, each with stereo's own disparity error of
  that frame, shuffled among them and given a random sign.

Reports ATE, RPE and the VO's distance over the true one (`TrajectoryErrors.distance_ratio`).
Noise draws are seeded by the home seed, so a run repeats itself; a second `--noise-seed` shows
how much the ratio moves with the draw alone.

    python benchmarks/vo_depth_source.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from common import RenderedDepth, add_markdown_option, machine, write_markdown

from astro_slam.eval.trajectory import evaluate
from astro_slam.msgs.time import header_ns
from astro_slam.sim.scenarios import SCENARIOS
from astro_slam.sim.simulate import simulate
from astro_slam.stack import COMPONENTS
from astro_slam.tools.replay import ReplayOptions, replay
from astro_slam.tools.tum import read_tum
from astro_slam.vo.association import StereoDepth, back_project
from astro_slam.vo.component import VisualOdometry
from astro_slam.vo.features import Features

SOURCES = (
    'stereo',
    'rendered',
    'rendered_where_stereo',
    'rendered_gaussian',
    'stereo_errors_random_sign',
)


class _ReplacedDepth:
    """Stands in for StereoDepth: the same call, another source of depth."""

    def __init__(self, stereo: StereoDepth, vo: DepthSourceVO) -> None:
        self.stereo = stereo
        self.focal_baseline = stereo.focal_baseline
        self.vo = vo

    def __call__(
        self, left_gray: np.ndarray, right_gray: np.ndarray, left: Features, K: np.ndarray
    ) -> np.ndarray:
        vo, fb = self.vo, self.focal_baseline
        measured = self.stereo(left_gray, right_gray, left, K)
        if vo.source == 'stereo':
            return measured
        z, flat = vo.truth.at(vo.frame_t_ns, left.xy)
        z = z.astype(float)
        with np.errstate(invalid='ignore'):
            near, far = fb / self.stereo.max_disparity, fb / self.stereo.min_disparity
            in_range = (z >= near) & (z <= far)
        has_stereo = np.isfinite(measured[:, 2])
        out = np.full_like(measured, np.nan)
        if vo.source == 'rendered':
            keep = in_range
            out[keep] = back_project(left.xy[keep], z[keep], K)
            return out
        if vo.source == 'rendered_where_stereo':
            keep = in_range & has_stereo
            out[keep] = back_project(left.xy[keep], z[keep], K)
            return out
        with np.errstate(invalid='ignore', divide='ignore'):
            good = has_stereo & in_range & flat & (np.abs(measured[:, 2] - z) < 0.1 * z)
            error = fb / measured[good, 2] - fb / z[good]
        if vo.source == 'rendered_gaussian':
            noise = vo.rng.normal(0.0, error.std() if len(error) > 1 else 0.0, len(error))
        else:  # stereo_errors_random_sign
            noise = vo.rng.permutation(error) * vo.rng.choice([-1.0, 1.0], len(error))
        disparity = fb / z[good] + noise
        ok = disparity > 0
        index = np.flatnonzero(good)[ok]
        out[index] = back_project(left.xy[index], fb / disparity[ok], K)
        return out

    def at(
        self, left_gray: np.ndarray, right_gray: np.ndarray, xy: np.ndarray, z_guess: np.ndarray
    ) -> np.ndarray:
        """The VO's per-frame depth check stays on stereo: it compares stereo with stereo."""
        return self.stereo.at(left_gray, right_gray, xy, z_guess)


class DepthSourceVO(VisualOdometry):
    """The VO with its stereo depth replaced (see the module docstring); set by `run`."""

    source = 'stereo'
    truth: RenderedDepth
    rng: np.random.Generator

    def on_stereo(self, left_msg: Any, right_msg: Any) -> None:
        self.frame_t_ns = header_ns(left_msg)
        super().on_stereo(left_msg, right_msg)

    def _stereo_depth(self, focal_baseline: float) -> Any:
        return _ReplacedDepth(super()._stereo_depth(focal_baseline), self)


COMPONENTS['visual_odometry_depth_source'] = f'{__name__}:DepthSourceVO'


def run(seed: int, source: str, noise_seed: int, duration: float, work: Path) -> dict:
    base = SCENARIOS['home-day']
    spec = dataclasses.replace(base.sessions[0], duration_s=duration)
    scenario = dataclasses.replace(base, name=f'home{seed}', sessions=(spec,))
    session = work / scenario.name
    if not (session / spec.name).exists():
        simulate(scenario, seed, seed, work, overwrite=True, progress=False)
    DepthSourceVO.source = source
    DepthSourceVO.rng = np.random.default_rng([seed, noise_seed])
    with RenderedDepth(session, spec.name) as DepthSourceVO.truth:
        (result,) = replay(
            [session / spec.name],
            ReplayOptions(
                work / 'out' / f'{scenario.name}-{source}',
                components=('dead_reckoning', 'visual_odometry_depth_source'),
                overwrite=True,
                progress=False,
            ),
        )
    truth = read_tum(result.folder / 'ground_truth.tum')
    vo = evaluate(*read_tum(result.folder / 'vo.tum'), *truth)
    out = {
        'home_seed': seed,
        'source': source,
        'noise_seed': noise_seed,
        'vo_ate_cm': round(vo.ate_rmse_m * 100, 2),
        'vo_rpe_pct': round(vo.rpe_trans_pct, 2),
        'vo_distance_ratio': round(vo.distance_ratio, 4),
    }
    print(json.dumps(out), flush=True)
    return out


def markdown(rows: list[dict], seeds: list[int]) -> str:
    header = ' | '.join(f'home {s}' for s in seeds)
    lines = [
        f'| depth at the keyframes | {header} |',
        '|---|' + '---|' * len(seeds),
    ]
    for source in dict.fromkeys((r['source'], r['noise_seed']) for r in rows):
        cells = []
        for s in seeds:
            (r,) = [
                r for r in rows if (r['source'], r['noise_seed'], r['home_seed']) == (*source, s)
            ]
            cells.append(
                f'{r["vo_ate_cm"]:.2f} cm, {r["vo_rpe_pct"]:.2f} %, {r["vo_distance_ratio"]:.4f}'
            )
        name = f'`{source[0]}`' + (f' (noise seed {source[1]})' if source[1] else '')
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--sources', nargs='+', choices=SOURCES, default=list(SOURCES))
    parser.add_argument('--noise-seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--duration-s', type=float, default=30.0)
    add_markdown_option(parser)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            run(seed, source, noise_seed, args.duration_s, Path(tmp))
            for source in args.sources
            for noise_seed in (args.noise_seeds if source in SOURCES[3:] else [0])
            for seed in args.seeds
        ]
    print(json.dumps({'date': date.today().isoformat(), 'machine': machine(), 'rows': rows}))
    write_markdown(
        args.markdown,
        markdown(rows, args.seeds),
        f'Scenario `home-day`, {args.duration_s:g} s of daylight stereo per home; each cell is '
        'VO ATE, VO RPE and the VO distance over the true one.',
    )


if __name__ == '__main__':
    main()
