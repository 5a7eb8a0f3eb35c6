"""Loop closure, relocalization and accuracy of the backend on simulated homes.

Per home seed, three simulated sessions, each replayed through the default stack
(visual_odometry + fusion + backend) exactly as `astro-slam replay` runs it:
- `aliasing`: six rooms, two of them furnished alike, visited in turn (150 s);
- `kidnap`: picked up mid-patrol and put down in another room (90 s);
- `loops`: a 5-minute daylight patrol that revisits every room (300 s);
- `kidnap-late`: a 4-minute patrol, picked up after 108 s and put down in a random room, which
  the patrol has usually mapped by then.

Reported per session: ATE RMSE and RPE (1 m) of VO alone (vo.tum), fused odometry alone
(odom.tum) and the backend (slam.tum: map -> odom composed with odometry, as a robot sees it
online), side by side from one run; loop precision and recall (astro_slam/eval/loops.py: a loop
is correct when its measured relative pose is within 0.3 m and 10 degrees of the truth; recall
over the labels' revisit events); per kidnap, the time from the put-down to the first pose and
that pose's error, and when after the put-down the robot first saw a view the map holds (it had
stood within 1.5 m facing within 45 degrees before the lift; before that no map can tell where
it is), and so how long relocalization took from there; the backend's CPU time per keyframe.

    python benchmarks/backend_loops.py --seeds 0 1 --camera-hz 15
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
from common import add_markdown_option, machine, write_markdown

from astro_slam.eval.loops import score_loops, score_relocalizations
from astro_slam.eval.trajectory import evaluate
from astro_slam.sim.scenarios import SCENARIOS, SessionSpec
from astro_slam.sim.simulate import simulate
from astro_slam.tools.replay import ReplayOptions, replay
from astro_slam.tools.tum import read_tum

SESSIONS = {
    'aliasing': (SCENARIOS['aliasing'], None),
    'kidnap': (SCENARIOS['kidnap'], None),
    'loops': (SCENARIOS['home-day'], SessionSpec('day', 300.0, people=1)),
    # Kidnapped at 45 % of 4 minutes, when the patrol has been through most rooms.
    'kidnap-late': (SCENARIOS['kidnap'], SessionSpec('day', 240.0, faults=('kidnap',))),
}


def first_mapped_view_s(
    gt_t: np.ndarray, gt_T: np.ndarray, kidnap: dict, step_s: float = 0.1
) -> float | None:
    """Seconds from the put-down until the robot first stands where it had stood before the
    lift (within 1.5 m) facing the same way (within 45 degrees): a view the map can hold, and
    the earliest a relocalization can come. None if it never does. Checked every step_s."""
    before = gt_T[gt_t < kidnap['t0_ns']]
    after = np.flatnonzero(gt_t >= kidnap['t1_ns'])
    if not len(before) or not len(after):
        return None
    heading = np.arctan2(before[:, 1, 0], before[:, 0, 0])
    next_ns = gt_t[after[0]]
    for i in after:
        if gt_t[i] < next_ns:
            continue
        next_ns = gt_t[i] + step_s * 1e9
        T = gt_T[i]
        near = np.linalg.norm(before[:, :3, 3] - T[:3, 3], axis=1) < 1.5
        turn = np.abs(np.angle(np.exp(1j * (heading - np.arctan2(T[1, 0], T[0, 0])))))
        if np.any(near & (turn < np.radians(45))):
            return float(gt_t[i] - kidnap['t1_ns']) / 1e9
    return None


def run_session(
    name: str, seed: int, camera_hz: float, work: Path, reuse: bool = False, rescore: bool = False
) -> dict:
    scenario, spec = SESSIONS[name]
    scenario = dataclasses.replace(scenario, camera_hz=camera_hz)
    if spec is not None:
        scenario = dataclasses.replace(scenario, sessions=(spec,))
    (session,) = [s.name for s in scenario.sessions]
    folder = work / f'{name}-{seed}' / scenario.name
    if not (reuse and (folder / f'{session}.labels.json').exists()):
        simulate(scenario, seed, 0, work / f'{name}-{seed}', overwrite=True, progress=False)
    bag = folder / session
    out = work / f'{name}-{seed}-out' / session
    if not (rescore and (out / 'run.json').exists()):
        (result,) = replay([bag], ReplayOptions(work / f'{name}-{seed}-out', overwrite=True))
        if result.error:
            raise RuntimeError(f'{name} seed {seed}: {result.error}')
        out = result.folder
    labels = json.loads((folder / f'{session}.labels.json').read_text())
    run = json.loads((out / 'run.json').read_text())
    backend = run['nodes']['backend']
    diag = backend['diagnostics']
    gt_t, gt_T = read_tum(out / 'ground_truth.tum')
    row: dict = {'session': name, 'seed': seed}
    for key, file in (('vo', 'vo.tum'), ('fused', 'odom.tum'), ('slam', 'slam.tum')):
        if (out / file).exists():
            errors = evaluate(*read_tum(out / file), gt_t, gt_T)
            row[f'{key}_ate_m'] = errors.ate_rmse_m
            row[f'{key}_rpe_pct'] = errors.rpe_trans_pct
    if (out / 'slam.tum').exists():
        slam_t = read_tum(out / 'slam.tum')[0]
        row['slam_coverage'] = len(slam_t) / max(len(read_tum(out / 'odom.tum')[0]), 1)
    loops = score_loops(diag['loop_events'], labels['revisits'], gt_t, gt_T)
    row.update(
        loops_accepted=loops.accepted,
        loops_correct=loops.correct,
        loop_precision=loops.precision,
        revisit_events=loops.revisit_events,
        loop_recall=loops.recall,
        revisits_recalled=loops.recalled,
        keyframes=diag['keyframes'],
        backend_cpu_ms_per_keyframe=1e3 * backend['cpu_s'] / max(diag['keyframes'], 1),
    )
    kidnaps = [f for f in labels['faults'] if f['kind'] == 'kidnap']
    if kidnaps and (out / 'slam.tum').exists():
        scores = score_relocalizations(
            kidnaps, diag['relocalizations'], *read_tum(out / 'slam.tum'), gt_t, gt_T
        )
        row['kidnaps'] = [
            {
                'mapped_view_s': first_mapped_view_s(gt_t, gt_T, k),
                'time_s': s.time_s,
                'error_m': s.first_pose_error_m,
                'error_deg': s.first_pose_error_deg,
                'wrong': s.wrong,
            }
            for k, s in zip(kidnaps, scores, strict=True)
        ]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--sessions', nargs='+', default=list(SESSIONS), choices=list(SESSIONS))
    parser.add_argument('--camera-hz', type=float, default=15.0)
    parser.add_argument('--work', type=Path, help='keep bags and results here')
    parser.add_argument(
        '--reuse', action='store_true', help='replay the bags already simulated in --work'
    )
    parser.add_argument(
        '--rescore', action='store_true', help='score the results already replayed in --work'
    )
    parser.add_argument('--json', type=Path, help='write the rows here')
    add_markdown_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        rows = []
        for seed in args.seeds:
            for name in args.sessions:
                row = run_session(
                    name, seed, args.camera_hz, work, args.reuse or args.rescore, args.rescore
                )
                print(json.dumps(row), flush=True)
                rows.append(row)
    report = {'date': date.today().isoformat(), 'machine': machine(), 'rows': rows}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    print(markdown(rows))
    write_markdown(
        args.markdown,
        markdown(rows),
        f'640x480 stereo at {args.camera_hz:g} Hz; the default stack, as `astro-slam replay` '
        'runs it.',
    )


def _cell(value: float | None, digits: int = 3) -> str:
    return '-' if value is None or value != value else f'{value:.{digits}f}'


def markdown(rows: list[dict]) -> str:
    """The rows as the tables of docs/BENCHMARKS.md."""
    lines = [
        '| session | seed | ATE VO (m) | ATE fused (m) | ATE slam (m) '
        '| RPE VO / fused / slam (%) | slam coverage | loops correct / accepted '
        '| revisit events recalled | backend ms/keyframe |',
        '|---|---|---|---|---|---|---|---|---|---|',
    ]
    for r in rows:
        rpe = ' / '.join(_cell(r.get(f'{k}_rpe_pct'), 2) for k in ('vo', 'fused', 'slam'))
        lines.append(
            f'| {r["session"]} | {r["seed"]} | {_cell(r.get("vo_ate_m"))} '
            f'| {_cell(r.get("fused_ate_m"))} | {_cell(r.get("slam_ate_m"))} | {rpe} '
            f'| {_cell(r.get("slam_coverage"), 2)} | {r["loops_correct"]} / {r["loops_accepted"]} '
            f'| {r["revisits_recalled"]} / {r["revisit_events"]} '
            f'| {r["backend_cpu_ms_per_keyframe"]:.1f} |'
        )
    kidnaps = [(r['seed'], r['session'], k) for r in rows for k in r.get('kidnaps', [])]
    if kidnaps:
        lines += [
            '',
            '| session | seed | a view the map holds, after (s) | relocalized after (s) '
            '| of which since that view (s) | first pose error (m, deg) |',
            '|---|---|---|---|---|---|',
        ]
        for seed, session, k in kidnaps:
            error = (
                f'{k["error_m"]:.3f}, {k["error_deg"]:.2f}' if k['error_m'] is not None else '-'
            )
            seen, found = k['mapped_view_s'], k['time_s']
            since = found - seen if seen is not None and found is not None else None
            lines.append(
                f'| {session} | {seed} | {_cell(seen, 1)} | {_cell(found, 2)} '
                f'| {_cell(since, 2)} | {error} |'
            )
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
