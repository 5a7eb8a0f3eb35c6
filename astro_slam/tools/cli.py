"""The `astro-slam` command: demo, simulate, replay, eval and dump-config.

Heavy imports happen after argument parsing, so `--help` is instant. Known errors print one line
and exit non-zero; tracebacks are kept for real bugs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

EXIT_NOTHING_PROCESSED = 1
EXIT_PARTIAL = 3  # results were written, but a bag was damaged or could not be read

EXAMPLES = """\
examples:
  astro-slam demo --out demo                                         # the main job, ~10 min
  astro-slam simulate --scenario home-week --home-seed 3 --out sim   # four sessions of a week
  astro-slam simulate --scenario tiny --rig rgbd --out sim           # a few seconds, RGB-D
  astro-slam replay sim/home-week/day1-morning --out results         # replay one session
  astro-slam replay a.mcap b/ --out results --config my_robot.yaml --mode localization
  astro-slam eval results/day1-morning                # ATE, RPE, relocalization, loops
  astro-slam dump-config > astro_slam.yaml            # every parameter with its default

exit codes of replay: 0 all bags read to the end; 1 nothing could be processed; 3 results
written, but a bag was truncated (read up to the damage) or could not be read
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='astro-slam',
        description='Long-term visual SLAM for home robots, without ROS.',
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument('--version', action='version', version=_version())
    parser.add_argument('-v', '--verbose', action='store_true', help='log debug messages')
    sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')

    sim = sub.add_parser(
        'simulate',
        help='simulate a changing home as ROS 2 bags',
        description='Renders every session of a scenario into a rosbag2 (mcap) with ground '
        'truth, labels, a floor plan and a montage, under OUT/<scenario>/.',
    )
    sim.add_argument(
        '--scenario',
        default='home-day',
        help='tiny, home-day, home-week, kidnap, dark, aliasing, or a YAML file '
        '(default home-day)',
    )
    sim.add_argument('--home-seed', type=int, default=0, help='which home (default 0)')
    sim.add_argument('--home', type=Path, help='a hand-written home YAML instead of a seed')
    sim.add_argument('--seed', type=int, default=0, help='noise, people, faults (default 0)')
    sim.add_argument('--out', type=Path, required=True, help='output folder')
    sim.add_argument('--rig', choices=('stereo', 'rgbd'), help="default: the scenario's")
    sim.add_argument('--duration-s', type=float, help='override every session duration')
    sim.add_argument('--camera-hz', type=float, help="override the scenario's camera rate")
    sim.add_argument('--overwrite', action='store_true', help='replace an existing output')
    sim.add_argument('--no-progress', action='store_true', help='no progress bar')

    rep = sub.add_parser(
        'replay',
        help='replay ROS 2 bags through the stack offline',
        description='Feeds each bag, in timestamp order, through the '
        "stack's components and records what the nodes publish.",
    )
    rep.add_argument(
        'bags',
        type=Path,
        nargs='+',
        metavar='BAG',
        help='rosbag2 folder, .mcap or .db3 file; several bags are sessions',
    )
    rep.add_argument('--out', type=Path, required=True, help='results folder')
    rep.add_argument('--config', type=Path, help='ROS 2 parameter file (config/astro_slam.yaml)')
    rep.add_argument('--map', dest='map_path', help='long-term map file to load and keep')
    rep.add_argument('--mode', choices=('mapping', 'localization'))
    rep.add_argument('--components', help='comma-separated components (default: the stack)')
    rep.add_argument(
        '--storage',
        choices=('mcap', 'sqlite3'),
        default='mcap',
        help='storage of the output bag (default mcap)',
    )
    rep.add_argument('--overwrite', action='store_true', help='replace existing result folders')
    rep.add_argument('--no-progress', action='store_true', help='no progress bar')

    demo = sub.add_parser(
        'demo',
        help='three simulated days mapped, re-localized and scored, with a report',
        description='Simulates three days of one home (daylight mapping; furniture moved, '
        'evening light and a slip; near-dark and a kidnap), replays them through the stack on '
        'one long-term map, scores them and writes DIR/report.md with pictures.',
    )
    demo.add_argument('--out', type=Path, default=Path('demo'), help='output folder (replaced)')
    demo.add_argument('--quick', action='store_true', help='30 s days instead of 75 s')
    demo.add_argument('--jobs', type=int, default=2, help='processes for the simulation')
    demo.add_argument(
        '--config',
        type=Path,
        help='ROS 2 parameter file for the stack (e.g. config/learned_features.yaml)',
    )
    demo.add_argument('--no-progress', action='store_true', help='no progress bar')
    ev = sub.add_parser(
        'eval',
        help='score a replay result folder against its ground truth',
        description='ATE, RPE, correct rate, relocalization, loops, speed and memory of one '
        '`astro-slam replay` result (its folder per bag); keys in astro_slam/eval/report.py.',
    )
    ev.add_argument('results', type=Path, nargs='+', help='result folder(s): DIR/<bag>/')
    ev.add_argument('--json', action='store_true', help='print JSON (one object per folder)')
    ev.add_argument(
        '--correct-m', type=float, default=0.1, help='correct-rate threshold (default 0.1 m)'
    )
    ev.add_argument(
        '--map-session',
        type=Path,
        action='append',
        default=[],
        help='result folder of an earlier session of the map, repeated for each, the one that '
        'began it first: relocalizations are judged in its map frame (default: each result '
        'aligned on its own truth), and loops to their keyframes on their ground truth',
    )
    sub.add_parser('dump-config', help='print every parameter with its default as ROS 2 YAML')
    return parser


def _version() -> str:
    from astro_slam import __version__

    return f'astro-slam {__version__}'


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format='%(levelname)s %(name)s: %(message)s',
    )
    from astro_slam.framework.config import ConfigError
    from astro_slam.tools.bag_io import BagError

    commands = {
        'simulate': _simulate,
        'replay': _replay,
        'eval': _eval,
        'demo': _demo,
        'dump-config': _dump_config,
    }
    try:
        return commands[args.command](args)
    except (BagError, ConfigError, KeyError, OSError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f'astro-slam: error: {message}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('astro-slam: interrupted', file=sys.stderr)
        return 130


def _simulate(args: argparse.Namespace) -> int:
    from astro_slam.sim.home import load_home_yaml
    from astro_slam.sim.scenarios import load_scenario
    from astro_slam.sim.simulate import override, simulate

    scenario = override(load_scenario(args.scenario), args.rig, args.duration_s, args.camera_hz)
    home = load_home_yaml(args.home) if args.home else None
    results = simulate(
        scenario,
        args.home_seed,
        args.seed,
        args.out,
        home,
        args.overwrite,
        False if args.no_progress else None,
    )
    rows = [('session', 'seconds', 'frames', 'messages', 'MB', 'MB/min')]
    rows += [
        (
            r.name,
            f'{r.duration_s:.0f}',
            str(r.frames),
            str(r.messages),
            f'{r.megabytes:.1f}',
            f'{r.mb_per_minute:.1f}',
        )
        for r in results
    ]
    print(_format_table(rows))
    print(f'bags, ground truth, labels and pictures in {args.out / scenario.name}/')
    return 0


def _replay(args: argparse.Namespace) -> int:
    from tqdm.contrib.logging import logging_redirect_tqdm

    from astro_slam.stack import DEFAULT_STACK, load_component
    from astro_slam.tools.replay import ReplayOptions, replay

    components = tuple(args.components.split(',')) if args.components else DEFAULT_STACK
    for name in components:
        load_component(name)  # an unknown name fails here, before any bag is opened
    options = ReplayOptions(
        out=args.out,
        config=args.config,
        map_path=args.map_path,
        mode=args.mode,
        components=components,
        storage=args.storage,
        overwrite=args.overwrite,
        progress=False if args.no_progress else None,
    )
    with logging_redirect_tqdm():
        results = replay(args.bags, options)
    for result in results:
        for warning in result.warnings:
            print(f'astro-slam: warning: {warning}', file=sys.stderr)
        if result.error:
            print(f'astro-slam: error: {result.error}', file=sys.stderr)
    print(_table(results))
    if not any(r.messages > 0 for r in results):
        return EXIT_NOTHING_PROCESSED
    return EXIT_PARTIAL if any(r.error or r.truncated for r in results) else 0


def _format_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        '  '.join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)


def _table(results: list) -> str:
    rows = [('bag', 'messages', 'bag s', 'wall s', 'x real time', 'drops', 'status')]
    for r in results:
        status = 'error' if r.error else 'truncated' if r.truncated else 'ok'
        rows.append(
            (
                Path(r.bag).name,
                str(r.messages),
                f'{r.duration_s:.1f}',
                f'{r.wall_s:.1f}',
                f'{r.realtime_factor:.1f}',
                str(r.drops),
                status,
            )
        )
    folders = sorted({str(r.folder.parent) for r in results if r.folder})
    return '\n'.join([_format_table(rows)] + [f'results in {f}/' for f in folders])


def _demo(args: argparse.Namespace) -> int:
    from tqdm.contrib.logging import logging_redirect_tqdm

    from astro_slam.tools.demo import run_demo, table

    print(f'simulating three days of one home into {args.out}/sim (a few minutes) ...', flush=True)
    with logging_redirect_tqdm():
        scores = run_demo(
            args.out,
            args.quick,
            args.jobs,
            False if args.no_progress else None,
            config=args.config,
        )
    print(table(scores))
    print(f'report: {args.out / "report.md"}; every score: {args.out / "scores.json"}')
    return 0 if all('error' not in r for r in scores['sessions'].values()) else EXIT_PARTIAL


def _eval(args: argparse.Namespace) -> int:
    import json

    from astro_slam.eval.report import Thresholds, evaluate_run, map_alignment

    first = args.map_session[0] if args.map_session else None
    frame = map_alignment(first) if first else None
    if first and frame is None:
        raise FileNotFoundError(f'{first} has no slam.tum and ground_truth.tum')
    th = Thresholds(correct_m=args.correct_m)
    reports = {str(f): evaluate_run(f, th, frame, args.map_session) for f in args.results}
    if args.json:
        print(json.dumps(reports if len(reports) > 1 else next(iter(reports.values())), indent=2))
        return 0
    rows = [('result', 'trajectory', 'ATE m', 'RPE %', 'RPE m/m', 'RPE m/10s', 'correct')]
    for folder, report in reports.items():
        for name, m in report['trajectories'].items():
            if m is None:
                continue
            rows.append(
                (
                    Path(folder).name,
                    name,
                    f'{m["ate_rmse_m"]:.3f}',
                    _fmt(m['rpe_trans_pct'], '.2f'),
                    _fmt(m['rpe_m_per_m'], '.3f'),
                    _fmt(m['rpe_m_per_10s'], '.3f'),
                    f'{100 * m["correct_rate"]:.0f} %',
                )
            )
    print(_format_table(rows))
    for folder, report in reports.items():
        extras = {
            k: report[k]
            for k in (
                'reloc_time_s',
                'reloc_score',
                'loop_precision',
                'loop_recall',
                'loops_unjudged',
                'fault_precision',
                'fault_recall',
                'realtime_factor',
                'peak_rss_mb',
            )
        }
        print(
            f'{Path(folder).name}: '
            + ', '.join(f'{k} {_fmt(v, ".3g")}' for k, v in extras.items())
        )
    return 0


def _fmt(value: object, spec: str) -> str:
    return '-' if value is None else format(value, spec)


def _dump_config(args: argparse.Namespace) -> int:
    from astro_slam.framework.config import config_yaml
    from astro_slam.stack import COMPONENTS, load_component

    classes = {}
    for name in COMPONENTS:
        cls = load_component(name)
        classes[cls.node_name] = cls.Config
    print(
        config_yaml(
            classes, 'astro_slam parameters, by node (generated by astro-slam dump-config).'
        ),
        end='',
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
