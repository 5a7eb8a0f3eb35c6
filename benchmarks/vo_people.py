"""Keyframe landmarks on a person walking ahead of the robot: the VO's depth check on and off.

For each home seed, the 6 s `walk` patrol of the tests (640x480 stereo at 15 Hz, one person;
session seed 3: in homes 1 and 2 the person walks away down the hallway ahead of the camera,
along the optical axis), replayed through the default stack once as shipped and once with
`depth_check_frames: 0`. Each keyframe landmark is judged against the home rendered at the
true pose with the person and without (`astro_slam.sim.people_truth`). Also reported: the VO's
ATE and tracked share, the landmarks the depth check dropped, and the keyframes published.

    python benchmarks/vo_people.py --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date
from pathlib import Path

from common import add_markdown_option, machine, vo_statuses, write_markdown

from astro_slam.eval.trajectory import evaluate
from astro_slam.msgs.pointcloud import cloud_to_array
from astro_slam.msgs.time import header_ns
from astro_slam.sim.home import load_home_yaml
from astro_slam.sim.people_truth import count_on_people
from astro_slam.sim.scenarios import walk_scenario
from astro_slam.sim.session import plan_session
from astro_slam.sim.simulate import simulate
from astro_slam.tools.bag_io import BagReader
from astro_slam.tools.replay import ReplayOptions, replay
from astro_slam.tools.tum import read_tum

SESSION_SEED = 3
CHECKS = {'depth check (default)': '', 'no depth check': 'depth_check_frames: 0'}


def run(seed: int, check: str, work: Path) -> dict:
    scenario = walk_scenario()
    out = work / f'home{seed}'
    bag = out / scenario.name / 'walk'
    if not bag.exists():
        simulate(scenario, seed, SESSION_SEED, out, progress=False)
    config = None
    if CHECKS[check]:
        config = work / f'{seed}-{len(check)}.yaml'
        config.write_text(f'visual_odometry:\n  ros__parameters:\n    {CHECKS[check]}\n')
    (result,) = replay(
        [bag],
        ReplayOptions(
            out / 'out' / str(len(check)), config=config, overwrite=True, progress=False
        ),
    )
    folder = result.folder
    with BagReader(folder / 'bag') as reader:
        keyframes = [
            (header_ns(m), cloud_to_array(m)) for _, _, m in reader.messages({'/vo/keyframe'})
        ]
    home = load_home_yaml(bag.parent / 'home.yaml')
    plan = plan_session(home, scenario, 0, SESSION_SEED, [])
    truth = read_tum(folder / 'ground_truth.tum')
    on_person, total = count_on_people(home, plan, *truth, keyframes)
    statuses = vo_statuses(folder / 'bag')
    vo = evaluate(*read_tum(folder / 'vo.tum'), *truth)
    return {
        'home_seed': seed,
        'check': check,
        'keyframes': len(keyframes),
        'landmarks': total,
        'on_person': on_person,
        'depth_moved': int(sum(float(s.get('depth_moved', 0)) for s in statuses)),
        'tracked_share': sum(s.get('state') != 'lost' for s in statuses) / max(len(statuses), 1),
        'vo_ate_cm': round(vo.ate_rmse_m * 100, 2),
    }


def markdown(rows: list[dict]) -> str:
    lines = [
        '| home | VO | keyframes | keyframe landmarks | on the person | dropped by the depth '
        'check | tracked | VO ATE |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for r in rows:
        share = r['on_person'] / max(r['landmarks'], 1)
        lines.append(
            f'| {r["home_seed"]} | {r["check"]} | {r["keyframes"]} | {r["landmarks"]} '
            f'| {r["on_person"]} ({100 * share:.1f} %) | {r["depth_moved"]} '
            f'| {100 * r["tracked_share"]:.1f} % | {r["vo_ate_cm"]:.2f} cm |'
        )
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[1, 2, 3])
    add_markdown_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(s, check, Path(tmp)) for s in args.seeds for check in CHECKS]
    print(json.dumps({'date': date.today().isoformat(), 'machine': machine(), 'rows': rows}))
    write_markdown(
        args.markdown,
        markdown(rows),
        f'The 6 s `walk` patrol (session seed {SESSION_SEED}) per home seed, 640x480 stereo at '
        '15 Hz, the default stack.',
    )


if __name__ == '__main__':
    main()
