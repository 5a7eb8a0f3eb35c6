"""`astro-slam demo`: three days of one simulated home mapped, re-localized and scored.

Day 1 maps the home in daylight; day 2 (furniture moved, evening light, a slipping wheel on a
rug and the door thresholds) and day 3 (near-dark, the robot carried to another room) start by
relocalizing in the map the days before left, and extend it. Every day is replayed through the
whole stack exactly as `astro-slam replay --map` runs it, scored by `astro-slam eval`, and drawn
into DIR/report.md: the table, the floor plans with truth and estimates, the error over time
with the faults shaded, fusion's trust in each sensor, the map, and its memory per day.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from astro_slam.eval.report import evaluate_run, map_alignment
from astro_slam.sim.scenarios import SCENARIOS, Scenario
from astro_slam.sim.simulate import simulate, split_sessions
from astro_slam.tools.replay import ReplayOptions, replay

HOME_SEED = 7
SEED = 0
QUICK_SECONDS = 30.0


def demo_scenario(quick: bool) -> Scenario:
    scenario = SCENARIOS['demo']
    if not quick:
        return scenario
    sessions = tuple(dataclasses.replace(s, duration_s=QUICK_SECONDS) for s in scenario.sessions)
    return dataclasses.replace(scenario, sessions=sessions)


def _simulate_part(scenario: Scenario, out: Path, part: range) -> list[str]:
    simulate(scenario, HOME_SEED, SEED, out, overwrite=True, progress=False, sessions=part)
    return [scenario.sessions[i].name for i in part]


def simulate_days(scenario: Scenario, out: Path, jobs: int) -> list[Path]:
    """The scenario's bags, sessions split over `jobs` processes (same bags as one process)."""
    parts = split_sessions(len(scenario.sessions), jobs)
    folders = [out / f'part{k}' for k in range(len(parts))]
    if len(parts) == 1:
        _simulate_part(scenario, folders[0], parts[0])
    else:
        # Spawned, not forked: the caller may hold threads (BLAS, faiss, a test runner's
        # earlier work), and a fork copies their locks held.
        spawn = multiprocessing.get_context('spawn')
        with ProcessPoolExecutor(len(parts), mp_context=spawn) as pool:
            for future in [
                pool.submit(_simulate_part, scenario, f, p)
                for f, p in zip(folders, parts, strict=True)
            ]:
                future.result()
    return [
        folders[k] / scenario.name / scenario.sessions[i].name
        for k, part in enumerate(parts)
        for i in part
    ]


def run_demo(
    out: Path,
    quick: bool = False,
    jobs: int = 2,
    progress: bool | None = None,
    scenario: Scenario | None = None,
    config: Path | None = None,
) -> dict[str, Any]:
    """Simulates, replays (with the parameter file `config` when given), scores and reports;
    returns the scores (also in DIR/scores.json)."""
    scenario = scenario or demo_scenario(quick)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    start = time.perf_counter()
    bags = simulate_days(scenario, out / 'sim', jobs)
    simulated_s = time.perf_counter() - start
    map_path = out / 'home.db'
    options = ReplayOptions(
        out / 'results', config=config, map_path=str(map_path), progress=progress
    )
    results = replay(bags, options)
    scores: dict[str, Any] = {'sessions': {}, 'seconds': {'simulate': round(simulated_s, 1)}}
    map_frame = None  # where the first day put the map frame: later days relocalize in it
    earlier: list[Path] = []  # days before: their truth judges loops to their keyframes
    for bag, result in zip(bags, results, strict=True):
        if result.error or result.folder is None:
            scores['sessions'][bag.name] = {'error': result.error}
            continue
        scores['sessions'][bag.name] = evaluate_run(
            result.folder, map_frame=map_frame, earlier=earlier
        )
        earlier.append(result.folder)
        if map_frame is None:
            map_frame = map_alignment(result.folder)
    scores['seconds']['replay'] = round(sum(r.wall_s for r in results), 1)
    previous = None
    for r in scores['sessions'].values():  # a day never placed in the map left it as it was
        if 'error' in r:
            continue
        r['merged'] = r.get('map_bytes') is not None
        r['map_bytes'] = r.get('map_bytes') or previous
        previous = r['map_bytes']
    (out / 'scores.json').write_text(json.dumps(scores, indent=2) + '\n', encoding='utf-8')
    write_report(out, bags, scores, map_path)
    return scores


def _session_data(bag: Path, folder: Path, report: dict) -> Any:
    from astro_slam.eval.plots import SENSORS, Session
    from astro_slam.msgs.diagnostics import from_diagnostic_array
    from astro_slam.tools.bag_io import BagReader
    from astro_slam.tools.tum import read_tum

    def tum(name: str) -> tuple[np.ndarray, np.ndarray] | None:
        path = folder / f'{name}.tum'
        return read_tum(path) if path.is_file() else None

    labels_path = bag.parent / f'{bag.name}.labels.json'
    labels = json.loads(labels_path.read_text()) if labels_path.is_file() else {}
    series: dict[str, tuple[list, list]] = {}
    with BagReader(folder / 'bag') as reader:
        for _, t_ns, msg in reader.messages({'/fusion/reliability'}):
            for status in from_diagnostic_array(msg):
                if status.hardware_id in SENSORS:
                    value = float(status.values.get('weight', 'nan'))
                elif status.hardware_id == 'robot':
                    value = float(status.values.get('lifted') == 'true')
                else:
                    continue
                name = status.hardware_id if status.hardware_id != 'robot' else 'lifted'
                series.setdefault(name, ([], []))
                series[name][0].append(t_ns)
                series[name][1].append(value)
    gt = tum('ground_truth')
    assert gt is not None
    return Session(
        bag.name,
        gt,
        tum('slam'),
        tum('odom'),
        labels.get('faults', []),
        {k: (np.array(t), np.array(v)) for k, (t, v) in series.items()},
        report.get('map_bytes'),
    )


def _cell(value: Any, scale: float = 1.0, digits: int = 1, unit: str = '') -> str:
    if value is None:
        return '-'
    return f'{value * scale:.{digits}f}{unit}'


def table(scores: dict[str, Any]) -> str:
    """Markdown: one row per day."""
    lines = [
        '| day | SLAM ATE | fused ATE | VO ATE | SLAM correct | relocalized at start | '
        'faults found (precision) | map |',
        '|---|---|---|---|---|---|---|---|',
    ]
    first_day = next(iter(scores['sessions']), None)
    for name, r in scores['sessions'].items():
        if 'error' in r:
            lines.append(f'| {name} | failed: {r["error"]} | | | | | | |')
            continue
        t = r['trajectories']

        def ate(key: str, t: dict = t) -> str:
            return _cell((t.get(key) or {}).get('ate_rmse_m'), 100, 1, ' cm')

        relocs = r.get('relocalizations') or []
        reloc = '-' if name == first_day else 'never'
        if relocs:
            first = relocs[0]
            verdict = 'right' if first['first_pose_right'] else 'WRONG'
            reloc = f'{first["time_s"]:.1f} s ({verdict})'
        size = sum((r.get('map_bytes') or {}).values())
        kept = '' if r.get('merged', True) else ' (day not merged)'
        lines.append(
            f'| {name} | {ate("slam")} | {ate("odom")} | {ate("vo")} | '
            f'{_cell(r.get("correct_rate"), 100, 0, " %")} | {reloc} | {_faults(r)} | '
            f'{size / 1e6:.2f} MB{kept} |'
        )
    return '\n'.join(lines)


def _faults(scores: dict[str, Any]) -> str:
    """Labelled faults found out of all, and the precision of the fault flags."""
    kinds = (scores.get('faults') or {}).values()
    truths = sum(k['truths'] for k in kinds)
    if not truths:
        return '-'
    found = sum(round((k['recall'] or 0.0) * k['truths']) for k in kinds)
    return f'{found}/{truths} ({_cell(scores.get("fault_precision"), 1, 2)})'


def write_report(out: Path, bags: list[Path], scores: dict[str, Any], map_path: Path) -> Path:
    from astro_mapping.plot import draw_map
    from astro_slam.eval import plots

    sessions = [
        _session_data(bag, out / 'results' / bag.name, scores['sessions'][bag.name])
        for bag in bags
        if 'error' not in scores['sessions'][bag.name]
    ]
    pictures = {
        'floor_plans.png': 'Where the robot was (black), where SLAM put it (blue, map frame) and '
        'where the fused odometry alone put it (orange)',
        'errors.png': 'SLAM position error over time; faults shaded (orange threshold bump, red '
        'slip, purple kidnap); gaps: no map pose while relocalizing',
        'reliability.png': "Fusion's weight of each sensor, and the lift flag",
        'map.png': 'The long-term map after the last day',
        'map_memory.png': 'Map memory per layer after each day',
    }
    if sessions:
        plots.floor_plans(sessions, out / 'floor_plans.png')
        plots.errors_over_time(sessions, out / 'errors.png')
        plots.reliability_timeline(sessions, out / 'reliability.png')
        plots.map_memory(sessions, out / 'map_memory.png')
    if map_path.is_file():
        draw_map(map_path, out / 'map.png')
    lines = [
        '# astro-slam demo',
        '',
        'Three days of one simulated home (home seed 7), replayed through the whole stack with '
        'one long-term map (`home.db`). ATE: RMS position error after aligning each trajectory '
        'on the truth; correct: share of the time with a map pose within 10 cm of the truth. '
        'Scores of every metric: `scores.json`; per day: `astro-slam eval results/<day>`, '
        'with `--map-session results/<earlier day>` for each day before it, as the demo '
        "scores it (relocalizations in the first day's map frame, loops to earlier days on "
        'their truth).',
        '',
        table(scores),
        '',
        f'Simulation {scores["seconds"]["simulate"]} s, replay {scores["seconds"]["replay"]} s.',
        '',
    ]
    for name, caption in pictures.items():
        if (out / name).is_file():
            lines += [f'![{caption}]({name})', '', f'*{caption}.*', '']
    path = out / 'report.md'
    path.write_text('\n'.join(lines), encoding='utf-8')
    return path
