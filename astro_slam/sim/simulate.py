"""`astro-slam simulate`: every session of a scenario as a bag, with truth, labels and pictures.

OUT/<scenario>/ gets, per session: `<session>/` (rosbag2, mcap), `<session>.tum` (ground truth
map -> base_link), `<session>.labels.json`, `<session>.floorplan.png`,
`<session>.montage.png`; plus `home.yaml` and `scenario.yaml` to rebuild the same world.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from astro_slam.sim.changes import apply_changes
from astro_slam.sim.generate import generate_home
from astro_slam.sim.home import Home, save_home_yaml
from astro_slam.sim.plots import floor_plan, montage
from astro_slam.sim.recorder import SessionRecorder
from astro_slam.sim.scenarios import Scenario, scenario_to_dict
from astro_slam.sim.session import GROUND_TRUTH_HZ, plan_session, write_labels
from astro_slam.tools.tum import write_tum

logger = logging.getLogger(__name__)


@dataclass
class SessionResult:
    name: str
    bag: Path
    duration_s: float
    frames: int
    messages: int
    megabytes: float

    @property
    def mb_per_minute(self) -> float:
        return self.megabytes / self.duration_s * 60.0


def override(
    scenario: Scenario,
    rig: str | None = None,
    duration_s: float | None = None,
    camera_hz: float | None = None,
) -> Scenario:
    """The scenario with command-line overrides applied to it and every session."""
    sessions = scenario.sessions
    if duration_s is not None:
        sessions = tuple(dataclasses.replace(s, duration_s=duration_s) for s in sessions)
    changes = {'sessions': sessions}
    if rig is not None:
        changes['rig'] = rig
    if camera_hz is not None:
        changes['camera_hz'] = camera_hz
    return dataclasses.replace(scenario, **changes)


def split_sessions(n_sessions: int, parts: int) -> list[range]:
    """Session indices in `parts` contiguous ranges of near-equal size, for `simulate(...,
    sessions=...)` in separate processes (empty ranges left out)."""
    parts = max(1, min(parts, n_sessions))
    bounds = [round(i * n_sessions / parts) for i in range(parts + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(parts)]


def simulate(
    scenario: Scenario,
    home_seed: int,
    seed: int,
    out: Path,
    home: Home | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    sessions: range | None = None,
) -> list[SessionResult]:
    """Simulates the sessions in order; changes carry over from one session to the next.

    With `sessions`, only those are recorded; the changes of the ones before still apply, so a
    long scenario can be split over processes and give the same bags.
    """
    from tqdm import tqdm

    folder = out / scenario.name
    if folder.exists():
        if not overwrite:
            raise FileExistsError(f'{folder} exists; remove it or pass --overwrite')
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    base = home or generate_home(home_seed, scenario.n_rooms)
    save_home_yaml(base, folder / 'home.yaml')
    (folder / 'scenario.yaml').write_text(
        yaml.safe_dump(scenario_to_dict(scenario), sort_keys=False), encoding='utf-8'
    )
    wanted = sessions if sessions is not None else range(len(scenario.sessions))
    frames_total = int(
        sum(s.duration_s for i, s in enumerate(scenario.sessions) if i in wanted)
        * scenario.camera_hz
    )
    results = []
    current = base
    with tqdm(
        total=frames_total,
        unit='frame',
        desc=scenario.name,
        leave=False,
        disable=None if progress is None else not progress,
    ) as bar:
        for index, spec in enumerate(scenario.sessions):
            current, changes = apply_changes(
                current, spec.changes, np.random.default_rng([seed, index, 0])
            )
            if index not in wanted:
                continue
            plan = plan_session(current, scenario, index, seed, changes)
            bag = folder / spec.name
            recorder = SessionRecorder(plan)
            messages = recorder.write(bag, lambda _t_s: bar.update(1))
            stamps = np.arange(0, spec.duration_s, 1 / GROUND_TRUTH_HZ)
            write_tum(
                folder / f'{spec.name}.tum',
                [plan.t_ns(t) for t in stamps],
                [plan.T_map_base(t) for t in stamps],
            )
            write_labels(plan, folder / f'{spec.name}.labels.json')
            floor_plan(
                current,
                plan.motion,
                plan.labels,
                folder / f'{spec.name}.floorplan.png',
                f'{scenario.name} / {spec.name} (home seed {home_seed})',
            )
            montage(recorder.samples, folder / f'{spec.name}.montage.png')
            megabytes = sum(p.stat().st_size for p in bag.iterdir()) / 1e6
            results.append(
                SessionResult(
                    spec.name, bag, spec.duration_s, recorder.frames_written, messages, megabytes
                )
            )
    return results
