"""Fusion under faults: detection against the simulator's labels, drift, covariance honesty, cost.

Per home seed, two simulated patrols: `faults` (a wet floor, a kidnap, low-power mode, a burst of
dropped camera frames, and the door thresholds every home has) and `clean` (none of these but
the thresholds). Each is replayed through visual_odometry + fusion exactly as `astro-slam
replay` runs them, once per fusion variant:
- gated: the default configuration;
- no_hints: gated, but deaf to the base's wheel_drop and low_power flags (lift and low power
  from the data alone);
- naive: gating off (no chi-square gates, no monitors): what plain fusion does.
Wheel-only dead reckoning is the bag's own /wheel/odometry.

Reported:
- detection of each fault kind from /fusion/reliability (precision, recall, median latency;
  a flag that drops for less than 0.5 s within one event is one detection):
  bump = IMU 'saturated' (truth: crossings whose impact clipped the accelerometer), slip =
  wheels rejected for slip, kidnap = 'lifted', low_power, dropped_frames = VO 'silent' (truth:
  the one-second burst; single lost frames are not a fault). Stamp jitter is not detected: it
  is 1.5 ms of noise the filter absorbs.
- drift: RPE over 1 m and ATE on the grounded parts (the carried stretch of a kidnap and 1 s
  after it are cut out; each part is aligned on its own);
- the error the slips and the low-power stretches leave: over each labelled slip or
  low-power stretch and the second after it, how far the estimated displacement is from the
  true one, summed per kind over a session;
- NEES of the position against /odometry/filtered's covariance, from the start to the first
  lift (odometry is anchored at the start; after a kidnap it is anchored nowhere);
- the largest step of the published position between two messages beyond what its own
  velocity explains: odom must never jump (REP-105);
- the cost of FusionCore.on_imu per sample (median over one session, in process).

    python benchmarks/fusion_faults.py --seeds 0 1 2 --duration-s 60
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import yaml
from common import add_markdown_option, machine, write_markdown
from scipy.spatial.transform import Rotation
from scipy.stats import chi2

from astro_fusion.config import FusionConfig
from astro_fusion.core import FusionCore
from astro_slam.eval.detection import DetectionScore, score
from astro_slam.eval.faults import KINDS, flagged, labelled
from astro_slam.eval.trajectory import evaluate
from astro_slam.msgs.poses import from_odometry
from astro_slam.sim.generate import generate_home
from astro_slam.sim.scenarios import SCENARIOS, SessionSpec
from astro_slam.sim.session import plan_session
from astro_slam.sim.simulate import simulate
from astro_slam.tools.bag_io import BagReader
from astro_slam.tools.replay import ReplayOptions, replay
from astro_slam.tools.tum import read_tum
from astro_slam.transforms import inverse, make_transform
from astro_slam.types import ImuSample, OdometryEstimate

FAULTS = ('slip', 'kidnap', 'low_power', 'dropped_frames')
VARIANTS = {'gated': {}, 'no_hints': {'use_base_hints': False}, 'naive': {'gating': False}}
THREE_SIGMA = float(chi2.ppf(0.9973, 3))  # the 3-sigma probability mass, in 3D
# Faults whose own stretch is scored: a slip (gating's work) and low power (the camera off:
# every variant dead-reckons on the wheels and the IMU).
ERROR_FAULTS = ('slip', 'low_power')


def odometry(bag: Path, topic: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(stamps, poses, position covariances) of an odometry topic."""
    t, T, P = [], [], []
    with BagReader(bag) as reader:
        for _, _, msg in reader.messages({topic}):
            odom = from_odometry(msg)
            t.append(odom.t_ns)
            T.append(odom.T)
            P.append(odom.pose_covariance[:3, :3])
    return np.array(t), np.array(T), np.array(P)


def largest_step(bag: Path, topic: str = '/odometry/filtered') -> float:
    """The largest move (m) of the published position between two messages beyond what its
    own velocity explains (trapezoidal): how far odom jumped, which REP-105 forbids."""
    t, p, v = [], [], []
    with BagReader(bag) as reader:
        for _, _, msg in reader.messages({topic}):
            odom = from_odometry(msg)
            t.append(odom.t_ns * 1e-9)
            p.append(odom.T[:3, 3])
            v.append(odom.T[:3, :3] @ odom.twist[:3])
    dt = np.diff(t)[:, None]
    p, v = np.array(p), np.array(v)
    beyond = np.linalg.norm(np.diff(p, axis=0) - 0.5 * (v[1:] + v[:-1]) * dt, axis=1)
    return float(beyond.max(initial=0.0))


def kidnap_cuts(labels: dict) -> list[tuple[int, int]]:
    """Each carry and the second after it (ns): no odometry can follow the robot there."""
    return sorted(
        (f['t0_ns'], f['t1_ns'] + 10**9) for f in labels['faults'] if f['kind'] == 'kidnap'
    )


def grounded_parts(t: np.ndarray, labels: dict) -> list[np.ndarray]:
    """Masks of the stretches between kidnaps (each carry and 1 s after it cut out)."""
    return [(t >= a) & (t < b) for a, b in grounded_pieces(int(t[0]), int(t[-1]) + 1, labels)]


def drift(est: tuple, truth: tuple, labels: dict) -> dict:
    """RPE (length-weighted) and ATE (RMS over poses) of the grounded parts."""
    t, T = est[0], est[1]
    rpe_len, ate_sq, n, length = 0.0, 0.0, 0, 0.0
    for mask in grounded_parts(t, labels):
        if mask.sum() < 50:
            continue
        e = evaluate(t[mask], T[mask], *truth)
        rpe_len += e.rpe_trans_pct * e.length_m
        length += e.length_m
        ate_sq += e.ate_rmse_m**2 * e.matched
        n += e.matched
    return {'rpe_pct': round(rpe_len / length, 2), 'ate_cm': round(100 * np.sqrt(ate_sq / n), 2)}


def grounded_pieces(t0: int, t1: int, labels: dict) -> list[tuple[int, int]]:
    """The stretch [t0, t1) without the kidnap cuts: a fault may overlap a carry (the robot put
    down while the camera is off), and the carry's displacement is no odometry's error."""
    pieces = [(t0, t1)]
    for a, b in kidnap_cuts(labels):
        pieces = [p for lo, hi in pieces for p in ((lo, min(hi, a)), (max(lo, b), hi))]
    return [(lo, hi) for lo, hi in pieces if hi > lo]


def fault_error(est: tuple, truth: tuple, labels: dict) -> dict:
    """The error each fault of ERROR_FAULTS leaves, summed over its labels: each from its start
    to 1 s after its end, carries cut out, how far the estimated displacement (in the piece's
    first body frame) is from the true one; with the true path over the same stretches. Keys:
    kind_error_cm, kind_path_m."""
    t, T = est[0], est[1]
    truth_t, truth_T = truth
    out = {}
    for kind in ERROR_FAULTS:
        error = path = 0.0
        for fault in labels['faults']:
            if fault['kind'] != kind:
                continue
            for start, end in grounded_pieces(fault['t0_ns'], fault['t1_ns'] + 10**9, labels):
                i, j = np.searchsorted(t, [start, end])
                j = min(j, len(t) - 1)
                if j <= i:  # the estimate ends before the piece does (also keeps t[i] in range)
                    continue
                gi, gj = np.searchsorted(truth_t, [t[i], t[j]])
                gj = min(gj, len(truth_t) - 1)
                if gj <= gi:
                    continue
                estimated = (inverse(T[i]) @ T[j])[:3, 3]
                true = (inverse(truth_T[gi]) @ truth_T[gj])[:3, 3]
                error += float(np.linalg.norm(estimated - true))
                steps = np.diff(truth_T[gi : gj + 1, :3, 3], axis=0)
                path += float(np.linalg.norm(steps, axis=1).sum())
        out |= {f'{kind}_error_cm': round(100 * error, 1), f'{kind}_path_m': round(path, 2)}
    return out


def nees(est: tuple, truth: tuple, labels: dict) -> list[float]:
    """Position NEES from the start to the first lift; both trajectories anchored at the start."""
    t, T, P = est
    truth_t, truth_T = truth
    lifts = [f['t0_ns'] for f in labels['faults'] if f['kind'] == 'kidnap']
    end = min(lifts, default=int(t[-1]) + 1)
    G0 = inverse(truth_T[np.searchsorted(truth_t, t[0])])
    out = []
    for i in np.flatnonzero(t < end)[::10]:
        j = min(np.searchsorted(truth_t, t[i]), len(truth_t) - 1)
        if abs(int(truth_t[j]) - int(t[i])) > 2e7:
            continue
        error = T[i][:3, 3] - (G0 @ truth_T[j])[:3, 3]
        out.append(float(error @ np.linalg.solve(P[i] + np.eye(3) * 1e-12, error)))
    return out


def imu_cost_us(seed: int, duration: float) -> float:
    """Median wall time of FusionCore.on_imu over one planned session (wheels fed too)."""
    spec = SessionSpec('cost', duration, faults=FAULTS)
    scenario = dataclasses.replace(SCENARIOS['home-day'], sessions=(spec,))
    plan = plan_session(generate_home(seed, None), scenario, 0, seed, [])
    core, times = FusionCore(FusionConfig()), []
    wheels, w = plan.wheels, 0
    for i, t_s in enumerate(plan.imu.t_s):
        while w < len(wheels.t_s) and wheels.t_s[w] <= t_s:
            x, y, yaw = wheels.pose[w]
            T = make_transform(Rotation.from_euler('z', yaw).as_matrix(), np.array([x, y, 0.0]))
            core.on_wheel(OdometryEstimate(plan.t_ns(wheels.t_s[w]), 'odom', 'base_link', T))
            w += 1
        sample = ImuSample(plan.t_ns(t_s), 'base_link', plan.imu.gyro[i], plan.imu.accel[i])
        start = time.perf_counter_ns()
        core.on_imu(sample, np.eye(3))
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1e3


def run_session(seed: int, name: str, duration: float, work: Path) -> dict:
    faults = FAULTS if name == 'faults' else ()
    spec = SessionSpec(name, duration, people=1, pets=1, faults=faults)
    scenario = dataclasses.replace(
        SCENARIOS['home-day'], name=f'home{seed}-{name}', sessions=(spec,)
    )
    simulate(scenario, seed, seed, work, overwrite=True, progress=False)
    bag = work / scenario.name / name
    labels = json.loads((work / scenario.name / f'{name}.labels.json').read_text())
    truth = read_tum(work / scenario.name / f'{name}.tum')
    wheel = odometry(bag, '/wheel/odometry')
    row: dict = {
        'home_seed': seed,
        'session': name,
        'wheel': {**drift(wheel, truth, labels), **fault_error(wheel, truth, labels)},
    }
    found, explained = labelled(labels)
    row['faults'] = {k: len(v) for k, v in found.items()}
    scores = {}
    for variant, params in VARIANTS.items():
        config = work / f'{variant}.yaml'
        config.write_text(yaml.safe_dump({'fusion': {'ros__parameters': params}}))
        out = work / 'out' / f'{scenario.name}-{variant}'
        components = ('visual_odometry', 'fusion')
        options = ReplayOptions(out, config, components=components, overwrite=True, progress=False)
        (result,) = replay([bag], options)
        fused = odometry(result.folder / 'bag', '/odometry/filtered')
        errors = nees(fused, truth, labels)
        row[variant] = {
            **drift(fused, truth, labels),
            **fault_error(fused, truth, labels),
            'nees_mean': round(float(np.mean(errors)), 2),
            'within_3_sigma': round(float(np.mean(np.array(errors) <= THREE_SIGMA)), 3),
            'largest_step_mm': round(1000 * largest_step(result.folder / 'bag'), 1),
        }
        raised = flagged(result.folder / 'bag') or {k: [] for k in KINDS}
        scores[variant] = {k: score(found[k], raised[k], explained[k]) for k in KINDS}
    print(json.dumps(row), flush=True)
    return {'row': row, 'scores': scores}


def summary(score_: DetectionScore) -> dict:
    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 3)

    return {
        'truths': score_.truths,
        'detections': score_.detections,
        'precision': r(score_.precision),
        'recall': r(score_.recall),
        'median_latency_s': r(score_.median_latency_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--duration-s', type=float, default=60.0)
    parser.add_argument('--work', type=Path, help='keep bags and results here (default: temp)')
    add_markdown_option(parser)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        for seed in args.seeds:
            for name in ('faults', 'clean'):
                results.append(run_session(seed, name, args.duration_s, work))
    detection = {}
    for variant in VARIANTS:
        detection[variant] = {
            k: summary(sum((r['scores'][variant][k] for r in results), DetectionScore(0, 0, 0, 0)))
            for k in KINDS
        }
    cost = imu_cost_us(args.seeds[0], args.duration_s)
    report = {
        'date': date.today().isoformat(),
        'machine': machine(),
        'rows': [r['row'] for r in results],
        'detection': detection,
        'imu_cost_us_median': round(cost, 1),
    }
    print(json.dumps(report, indent=1))
    write_markdown(
        args.markdown,
        markdown(report),
        f'{args.duration_s:g} s daylight patrols with a person and a pet, 640x480 stereo at '
        '15 Hz, per home seed.',
    )


def markdown(report: dict) -> str:
    def drift(d: dict) -> str:
        return f'{d["rpe_pct"]} / {d["ate_cm"]}'

    lines = [
        '| home | session | wheel RPE % / ATE cm | gated | no hints | naive '
        '| NEES mean (gated) | within 3 sigma (gated) | largest step mm (gated / naive) |',
        '|---|---|---|---|---|---|---|---|---|',
    ]
    for r in report['rows']:
        g = r['gated']
        lines.append(
            f'| {r["home_seed"]} | {r["session"]} | {drift(r["wheel"])} | {drift(g)} '
            f'| {drift(r["no_hints"])} | {drift(r["naive"])} | {g["nees_mean"]} '
            f'| {g["within_3_sigma"]} | {g["largest_step_mm"]} / {r["naive"]["largest_step_mm"]} |'
        )

    faulted = [
        (r, kind)
        for r in report['rows']
        for kind in ERROR_FAULTS
        if r['wheel'].get(f'{kind}_path_m', 0) > 0
    ]
    if faulted:
        lines += [
            '',
            '| home | session | over | path | wheel | gated | no hints | naive |',
            '|---|---|---|---|---|---|---|---|',
        ]
        for r, kind in faulted:
            errors = ' | '.join(
                f'{r[v][f"{kind}_error_cm"]} cm' for v in ('wheel', 'gated', 'no_hints', 'naive')
            )
            lines.append(
                f'| {r["home_seed"]} | {r["session"]} | {kind} '
                f'| {r["wheel"][f"{kind}_path_m"]} m | {errors} |'
            )

    def cell(d: dict, latency: bool = True) -> str:
        values = [d['precision'], d['recall']] + ([d['median_latency_s']] if latency else [])
        return ' / '.join('-' if v is None else f'{v:g}' for v in values)

    det = report['detection']
    lines += [
        '',
        '| fault | truths | gated P / R / latency s | no hints P / R / latency s | naive P / R |',
        '|---|---|---|---|---|',
    ]
    for kind in KINDS:
        lines.append(
            f'| {kind} | {det["gated"][kind]["truths"]} | {cell(det["gated"][kind])} '
            f'| {cell(det["no_hints"][kind])} | {cell(det["naive"][kind], False)} |'
        )
    lines += ['', f'FusionCore.on_imu: {report["imu_cost_us_median"]} us median per sample.']
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
