"""Re-runs only the backend on a finished replay, with parameter overrides: seconds instead of
minutes per variant, for tuning (the backend feeds nothing back to VO or fusion, so its inputs
are exactly what the full stack gave it).

Inputs: the simulated bag (camera_info, /tf_static), the replay's output bag (/vo/keyframe,
/odometry/filtered, /fusion/*) and the session's labels. Prints, per variant, the loop score,
relocalizations and the ATE / RPE of the final optimized keyframe poses.

    python benchmarks/backend_rerun.py SIM_BAG RESULT_FOLDER LABELS.json \\
        --variant '' --variant 'local_ba=true' --variant 'local_ba=true ba_sigma_m=0.05'
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from common import feed_recorded, machine

from astro_slam.backend.component import Backend
from astro_slam.backend.config import BackendConfig
from astro_slam.eval.loops import score_loops
from astro_slam.eval.trajectory import evaluate
from astro_slam.framework.config import config_from_params
from astro_slam.framework.graph import Graph
from astro_slam.tools.tum import read_tum


def rerun(sim_bag: Path, result: Path, labels: dict, overrides: dict[str, Any]) -> dict:
    config = config_from_params(BackendConfig, overrides)
    graph = Graph()
    backend = graph.add(Backend, config)
    feed_recorded(graph, sim_bag, result)
    gt_t, gt_T = read_tum(result / 'ground_truth.tum')
    diag = backend.diagnostics()
    loops = score_loops(diag['loop_events'], labels['revisits'], gt_t, gt_T)
    poses = backend.core.keyframe_poses()
    errors = evaluate(
        np.array([t for t, _ in poses]),
        np.array([T for _, T in poses]),
        gt_t,
        gt_T,
        1.0,
        60_000_000,
    )
    return {
        'overrides': overrides,
        'loops_correct': loops.correct,
        'loops_accepted': loops.accepted,
        'revisits_recalled': f'{loops.recalled} / {loops.revisit_events}',
        'relocalization_s': diag['relocalization_s'],
        'keyframe_ate_m': round(errors.ate_rmse_m, 4),
        'keyframe_rpe_pct': round(errors.rpe_trans_pct, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('sim_bag', type=Path)
    parser.add_argument('result', type=Path, help='the replay folder of that bag (has bag/)')
    parser.add_argument('labels', type=Path)
    parser.add_argument(
        '--variant', action='append', default=[], help="'name=value ...' backend parameters"
    )
    args = parser.parse_args()
    labels = json.loads(args.labels.read_text())
    print(machine())
    for variant in args.variant or ['']:
        # Values typed as YAML types them, as in a parameter file.
        overrides = {k: yaml.safe_load(v) for k, v in (kv.split('=', 1) for kv in variant.split())}
        row = rerun(args.sim_bag, args.result, labels, overrides)
        print(json.dumps(row), flush=True)


if __name__ == '__main__':
    main()
