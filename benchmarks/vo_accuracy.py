"""Visual odometry accuracy, tracking rate and latency on simulated homes, without loop closure.

For each home seed: one 30 s daylight patrol with a person and a pet, and the same patrol with
light at 10 % of normal; replayed through dead_reckoning + visual_odometry exactly as
`astro-slam replay` runs them, with OpenCV on one thread. Reports, per sequence: ATE RMSE after
SE(3) alignment, RPE (drift over 1 m segments, % of distance), the VO's distance over the true
one on those segments (a scale error), share of frames with a published pose (and how many of
them were bridged by the prior, `bridge_with_prior`), and the median per-frame CPU latency
with its per-stage split; wheel-only dead reckoning on the same runs for comparison.

    python benchmarks/vo_accuracy.py --seeds 0 1 2 --duration-s 30
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
from datetime import date
from pathlib import Path

import cv2
from common import add_markdown_option, machine, vo_statuses, write_markdown

from astro_slam.eval.trajectory import evaluate
from astro_slam.sim.scenarios import SCENARIOS
from astro_slam.sim.simulate import simulate
from astro_slam.tools.replay import ReplayOptions, replay
from astro_slam.tools.tum import read_tum

STAGES = (
    'ms_features',
    'ms_match_and_pose',
    'ms_map_update',
    'ms_depth_check',
    'ms_keyframe',
    'ms_prune',
)


def run(seed: int, light: float, duration: float, work: Path, config: Path | None = None) -> dict:
    base = SCENARIOS['home-day']
    spec = dataclasses.replace(base.sessions[0], duration_s=duration, dimming=light)
    scenario = dataclasses.replace(base, name=f'home{seed}-light{light:g}', sessions=(spec,))
    simulate(scenario, seed, seed, work, overwrite=True, progress=False)
    bag = work / scenario.name / spec.name
    (result,) = replay(
        [bag],
        ReplayOptions(
            work / 'out' / scenario.name,
            config=config,
            components=('dead_reckoning', 'visual_odometry'),
            overwrite=True,
            progress=False,
        ),
    )
    folder = result.folder
    truth = read_tum(folder / 'ground_truth.tum')
    vo = evaluate(*read_tum(folder / 'vo.tum'), *truth)
    wheel = evaluate(*read_tum(folder / 'odom.tum'), *truth)
    values = vo_statuses(folder / 'bag')
    tracked = [v for v in values if v.get('state') == 'tracking']
    out = {
        'home_seed': seed,
        'light': light,
        'frames': len(values),
        'tracked_share': round(sum(v.get('state') != 'lost' for v in values) / len(values), 4),
        'bridged': sum(v.get('reason') == 'bridged_by_odometry' for v in values),
        'path_m': round(vo.length_m, 2),
        'vo_ate_cm': round(vo.ate_rmse_m * 100, 2),
        'vo_rpe_pct': round(vo.rpe_trans_pct, 2),
        'vo_distance_ratio': round(vo.distance_ratio, 4),
        'wheel_ate_cm': round(wheel.ate_rmse_m * 100, 2),
        'wheel_rpe_pct': round(wheel.rpe_trans_pct, 2),
        'median_latency_ms': round(statistics.median(float(v['latency_ms']) for v in tracked), 1),
        'stages_ms': {
            s: round(statistics.median([float(v[s]) for v in tracked if s in v] or [0.0]), 2)
            for s in STAGES
        },
        'lost_reasons': sorted({v['reason'] for v in values if v.get('reason')}),
    }
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--duration-s', type=float, default=30.0)
    parser.add_argument('--lights', type=float, nargs='+', default=[1.0, 0.1])
    parser.add_argument('--config', type=Path, help='ROS 2 parameter file for the stack')
    add_markdown_option(parser)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # the target is per frame on one core
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            run(s, light, args.duration_s, Path(tmp), args.config)
            for s in args.seeds
            for light in args.lights
        ]
    print(
        json.dumps(
            {
                'date': date.today().isoformat(),
                'machine': machine(),
                'rows': rows,
            },
            indent=1,
        )
    )
    write_markdown(
        args.markdown,
        markdown(rows),
        f'Scenario `home-day` (a person and a pet walking), {args.duration_s:g} s of 640x480 '
        'stereo at 15 Hz per row; OpenCV on one thread.',
    )


def markdown(rows: list[dict]) -> str:
    lines = [
        '| home | light | path | tracked | VO ATE | VO RPE | wheel ATE | wheel RPE '
        '| VO distance / true | median latency '
        '| features / match and pose / depth check / keyframe (median ms) | lost because |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for r in rows:
        st = r['stages_ms']
        bridged = f' ({r["bridged"]} bridged)' if r['bridged'] else ''
        lines.append(
            f'| {r["home_seed"]} | {r["light"]:g} | {r["path_m"]} m '
            f'| {100 * r["tracked_share"]:.1f} %{bridged} | {r["vo_ate_cm"]:.2f} cm '
            f'| {r["vo_rpe_pct"]:.2f} % | {r["wheel_ate_cm"]:.2f} cm | {r["wheel_rpe_pct"]:.2f} % '
            f'| {r["vo_distance_ratio"]:.4f} '
            f'| {r["median_latency_ms"]} ms '
            f'| {st["ms_features"]} / {st["ms_match_and_pose"]} / {st["ms_depth_check"]} '
            f'/ {st["ms_keyframe"]} '
            f'| {", ".join(r["lost_reasons"]) or "-"} |'
        )
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
