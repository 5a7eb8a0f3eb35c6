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
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from common import add_markdown_option, feed_recorded, machine, write_markdown
from tqdm import tqdm

from astro_mapping.component import MapServer
from astro_mapping.config import MapServerConfig
from astro_mapping.places import map_places
from astro_mapping.plot import draw_map
from astro_mapping.store import load
from astro_slam.backend.component import Backend, keyframe_view
from astro_slam.backend.config import BackendConfig
from astro_slam.backend.core import BackendCore
from astro_slam.backend.place_model import load_place_model
from astro_slam.eval.trajectory import associate, umeyama
from astro_slam.framework.graph import Graph
from astro_slam.msgs.camera import camera_info_to_model
from astro_slam.msgs.keyframe import from_keyframe_cloud
from astro_slam.msgs.poses import pose_to_matrix
from astro_slam.msgs.time import header_ns
from astro_slam.sim.scenarios import SCENARIOS, Scenario
from astro_slam.sim.simulate import simulate, split_sessions
from astro_slam.tools.bag_io import BagReader
from astro_slam.tools.replay import ReplayOptions, replay
from astro_slam.tools.tum import read_tum
from astro_slam.transforms import inverse, rotation_deg
from astro_slam.vo.features import EXTRACTORS

HOME_SEED = 7
SEED = 0


def _scenario(sessions: int) -> Scenario:
    s = SCENARIOS['home-month']
    return dataclasses.replace(s, sessions=s.sessions[:sessions])


def _simulate_and_replay(
    work: Path, part: int, wanted: range, sessions: int, features: str, model: str = ''
) -> list[str]:
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
            params = work / 'vo_params.yaml'
            params.write_text(
                f'visual_odometry:\n  ros__parameters:\n    features: {features}\n'
                f"    feature_model: '{model}'\n"
            )
            options = ReplayOptions(
                work / 'vo',
                config=params,
                components=('fusion', 'visual_odometry'),
                overwrite=True,
                progress=False,
            )
            (result,) = replay([folder / name], options)
            if result.error:
                raise RuntimeError(f'{name}: {result.error}')
        done.append(name)
    return done


def stage_inputs(
    work: Path, sessions: int, jobs: int, features: str = 'orb', model: str = ''
) -> None:
    names = [spec.name for spec in _scenario(sessions).sessions]
    if all(
        list((work / 'sim').glob(f'part*/home-month/{n}'))
        and (work / 'vo' / n / 'run.json').exists()
        for n in names
    ):
        return  # made by an earlier run
    parts = split_sessions(sessions, jobs)
    start = time.perf_counter()
    with ProcessPoolExecutor(len(parts)) as pool:
        futures = [
            pool.submit(_simulate_and_replay, work, k, part, sessions, features, model)
            for k, part in enumerate(parts)
        ]
        for f in futures:
            print('inputs ready:', ', '.join(f.result()), flush=True)
    print(f'stage 1-2: {time.perf_counter() - start:.0f} s', flush=True)


def _session_folders(work: Path, sessions: int) -> list[tuple[str, Path, Path]]:
    """(name, simulated bag, VO + fusion results) of each session, in order."""
    out = []
    for spec in _scenario(sessions).sessions:
        (bag,) = (work / 'sim').glob(f'part*/home-month/{spec.name}')
        out.append((spec.name, bag, work / 'vo' / spec.name))
    return out


def _keyframes(result: Path) -> list[Any]:
    with BagReader(result / 'bag') as reader:
        return [from_keyframe_cloud(m) for _, _, m in reader.messages({'/vo/keyframe'})]


def _relocalization_rate(
    map_path: Path, sim_bag: Path, result: Path, T_slam_gt: np.ndarray, every: int, features: str
) -> tuple[float, int, float]:
    """(share of keyframes placed right, keyframes tried, seconds to load the map)."""
    start = time.perf_counter()
    m = load(map_path)
    load_s = time.perf_counter() - start
    core = BackendCore(BackendConfig(features=features), load_place_model('', features))
    core.load_map(map_places(m, core.vocabulary))
    with BagReader(sim_bag) as reader:
        info = next(msg for _, _, msg in reader.messages({'/camera/left/camera_info'}))
    core.K = camera_info_to_model(info).projection[:, :3].copy()
    gt_t, gt_T = read_tum(result / 'ground_truth.tum')
    tried = right = 0
    for cloud in _keyframes(result)[::every]:
        i, j = associate(np.array([cloud.t_ns]), gt_t)
        if not len(i):
            continue
        view = keyframe_view(cloud, core.vocabulary.descriptor_size)
        found = core.locate(view, m.T_base_camera)
        tried += 1
        if found is not None:
            right += _pose_ok(found[0], T_slam_gt @ gt_T[j[0]])
    return (right / tried if tried else 0.0), tried, load_s


def _pose_ok(T: np.ndarray, T_true: np.ndarray) -> bool:
    return bool(
        np.linalg.norm(T[:3, 3] - T_true[:3, 3]) <= 0.3
        and rotation_deg(inverse(T_true) @ T) <= 10.0
    )


class FirstPose:
    """A graph tap that keeps the first /slam/pose (stamp, T_map_base)."""

    def __init__(self) -> None:
        self.value: tuple[int, np.ndarray] | None = None

    def __call__(self, topic: str, msg: Any, _now: int, _publisher: str | None) -> None:
        if topic == '/slam/pose' and self.value is None:
            self.value = (header_ns(msg), pose_to_matrix(msg.pose.pose))


def run_variant(
    work: Path,
    sessions: int,
    name: str,
    prune: bool,
    budget: int,
    features: str = 'orb',
    keep_daily_maps: bool = False,
) -> list[dict]:
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    map_path = folder / 'home.db'
    map_path.unlink(missing_ok=True)
    rows = []
    T_slam_gt = None
    for index, (session, sim_bag, result) in enumerate(
        tqdm(_session_folders(work, sessions), desc=name)
    ):
        row: dict[str, Any] = {'session': index + 1, 'name': session}
        if map_path.exists() and T_slam_gt is not None:
            rate, tried, load_s = _relocalization_rate(
                map_path, sim_bag, result, T_slam_gt, 3, features
            )
            row.update(reloc_rate=round(rate, 3), reloc_tried=tried, load_s=round(load_s, 3))
        graph = Graph()
        backend = graph.add(Backend, BackendConfig(map_path=str(map_path), features=features))
        server = graph.add(
            MapServer,
            MapServerConfig(
                map_path=str(map_path),
                features=features,
                prune=prune,
                memory_budget_bytes=budget,
                save_period_s=0.0,
            ),
        )
        first_pose = FirstPose()
        graph.tap(first_pose)
        start = time.perf_counter()
        feed_recorded(graph, sim_bag, result)
        graph.shutdown()
        row['wall_s'] = round(time.perf_counter() - start, 2)
        saves = server.diagnostics()['saves']
        if saves:
            save = saves[-1]
            row.update(
                merged=True,
                bytes=sum(save['bytes'].values()),
                layers=save['bytes'],
                file_bytes=save['file_bytes'],
                places=save['places'],
                landmarks=save['landmarks'],
                rooms=save['rooms'],
                merge_s=save['merge_s'],
                prune_s=save['prune_s'],
                save_s=save['save_s'],
                reobserved=save['reobserved'],
                new=save['new'],
                missed=save['missed'],
                stale_places=save['stale_places'],
                reshaped_rooms=save['reshaped_rooms'],
                pruned=save['pruned'],
            )
        else:  # never relocalized: the session is not in the map, which stays as it was
            keep = ('bytes', 'layers', 'file_bytes', 'places', 'landmarks', 'rooms')
            row.update({k: rows[-1][k] for k in keep}, merged=False, merge_s=0.0, prune_s=0.0)
            row['save_s'] = 0.0
        gt_t, gt_T = read_tum(result / 'ground_truth.tum')
        poses = backend.core.keyframe_poses()
        if T_slam_gt is None:  # the map frame is session 1's: tie it to the truth once
            i, j = associate(np.array([t for t, _ in poses]), gt_t)
            T_slam_gt = inverse(umeyama(np.array([poses[k][1][:3, 3] for k in i]), gt_T[j, :3, 3]))
        diag = backend.diagnostics()
        relocs = diag['relocalizations']
        if index > 0:
            # Up to the first pose published (eval.loops.score_relocalizations says why).
            row['start_reloc_s'] = None
            if relocs and first_pose.value is not None:
                row['start_reloc_s'] = round(
                    (first_pose.value[0] - relocs[0]['requested_ns']) / 1e9, 2
                )
            if first_pose.value is not None:
                t, T = first_pose.value
                i, j = associate(np.array([t]), gt_t, 60_000_000)
                row['first_pose_ok'] = bool(len(i)) and _pose_ok(T, T_slam_gt @ gt_T[j[0]])
        i, j = associate(np.array([t for t, _ in poses]), gt_t)
        if len(i):
            est = np.array([poses[k][1][:3, 3] for k in i])
            true = (T_slam_gt[:3, :3] @ gt_T[j, :3, 3].T).T + T_slam_gt[:3, 3]
            row['keyframe_error_m'] = round(
                float(np.sqrt(np.mean(np.sum((est - true) ** 2, 1)))), 4
            )
        rows.append(row)
        if keep_daily_maps and map_path.exists():  # for benchmarks/month_probe.py
            shutil.copy(map_path, folder / f'day{index + 1:02d}.db')
        (folder / 'sessions.json').write_text(json.dumps(rows, indent=1) + '\n')
    return rows


def table(results: dict) -> str:
    """Markdown: the two variants side by side, session by session."""
    lines = [
        '| session | bytes (pruned) | bytes (all kept) | reloc (pruned) | reloc (all kept) '
        '| start reloc s (pruned) | merge+prune+save s (pruned / all kept) |',
        '|---|---|---|---|---|---|---|',
    ]
    for a, b in zip(results['pruned'], results['unpruned'], strict=True):

        def rate(r: dict) -> str:
            return f'{100 * r["reloc_rate"]:.0f} %' if 'reloc_rate' in r else '-'

        work_a = a['merge_s'] + a['prune_s'] + a['save_s']
        work_b = b['merge_s'] + b['prune_s'] + b['save_s']
        lines.append(
            f'| {a["session"]} {a["name"]} | {a["bytes"]:,} | {b["bytes"]:,} | {rate(a)} | '
            f'{rate(b)} | {a.get("start_reloc_s", "-")} | {work_a:.2f} / {work_b:.2f} |'
        )
    return '\n'.join(lines)


def plot(results: dict, path: Path) -> None:
    """Map bytes and relocalization success per session, both variants, the budget line."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    for name, style in (('pruned', '-o'), ('unpruned', '--s')):
        rows = results[name]
        label = 'pruned to the budget' if name == 'pruned' else 'all kept'
        top.plot(
            [r['session'] for r in rows], [r['bytes'] / 1e6 for r in rows], style, label=label
        )
        rated = [r for r in rows if 'reloc_rate' in r]
        bottom.plot(
            [r['session'] for r in rated],
            [100 * r['reloc_rate'] for r in rated],
            style,
            label=label,
        )
    top.axhline(results['budget_bytes'] / 1e6, color='grey', lw=1, label='budget')
    top.set_ylabel('map (MB, all layers)')
    top.legend()
    bottom.set_ylabel('keyframes relocalized (%)')
    bottom.set_xlabel('session (day)')
    bottom.set_ylim(0, 100)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work', type=Path, required=True, help='bags and results folder')
    parser.add_argument('--sessions', type=int, default=30)
    parser.add_argument('--jobs', type=int, default=2, help='processes for stages 1-2')
    parser.add_argument('--inputs-only', action='store_true', help='stop after stage 2')
    parser.add_argument('--budget-mb', type=float, default=1.0, help='map memory budget')
    parser.add_argument(
        '--variants', nargs='+', default=['pruned', 'unpruned'], choices=['pruned', 'unpruned']
    )
    parser.add_argument(
        '--report', action='store_true', help='only redraw and reprint from --work/month.json'
    )
    parser.add_argument(
        '--keep-daily-maps',
        action='store_true',
        help="copy each day's map file to --work/VARIANT/dayNN.db (for month_probe.py)",
    )
    parser.add_argument(
        '--features',
        default='orb',
        choices=EXTRACTORS,
        help='local features of the VO, backend and map server (a --work of its own)',
    )
    parser.add_argument(
        '--feature-model',
        default='',
        help="the VO's feature_model with --features learned ('int8': the 8-bit network)",
    )
    add_markdown_option(parser)
    args = parser.parse_args()
    if args.report:
        results = json.loads((args.work / 'month.json').read_text())
        plot(results, args.work / 'month.png')
        draw_map(args.work / 'pruned' / 'home.db', args.work / 'month_map.png')
        print(table(results))
        return
    stage_inputs(args.work, args.sessions, args.jobs, args.features, args.feature_model)
    if args.inputs_only:
        return
    budget = int(args.budget_mb * 1e6)
    print(machine(), flush=True)
    results = {'budget_bytes': budget, 'machine': machine()}
    for name in args.variants:
        results[name] = run_variant(
            args.work,
            args.sessions,
            name,
            name == 'pruned',
            budget,
            args.features,
            args.keep_daily_maps,
        )
    if len(args.variants) < 2:
        print(json.dumps(results[args.variants[0]], indent=1))
        return
    (args.work / 'month.json').write_text(json.dumps(results, indent=1) + '\n')
    plot(results, args.work / 'month.png')
    draw_map(args.work / 'pruned' / 'home.db', args.work / 'month_map.png')
    print(table(results))
    write_markdown(
        args.markdown,
        table(results),
        f'{args.sessions} daily sessions of one home (`home-month`, {args.features} features), '
        f'pruned to a {args.budget_mb:g} MB budget beside the same run with everything kept. '
        f'Plots: {args.work}/month.png, {args.work}/month_map.png.',
    )


if __name__ == '__main__':
    main()
