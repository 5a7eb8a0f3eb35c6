"""The long-term map through the whole stack on a short simulated session, as `astro-slam replay
--map` runs it: the first run builds and saves the map, a second run of the same session starts
by relocalizing in it, and merges into it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip('moderngl')

from astro_mapping.store import load
from astro_slam.eval.trajectory import associate, umeyama
from astro_slam.msgs.occupancy import from_occupancy_grid
from astro_slam.sim.home import load_home_yaml
from astro_slam.sim.patrol import FloorGrid
from astro_slam.tools.bag_io import BagReader
from astro_slam.tools.replay import ReplayOptions, replay
from astro_slam.tools.tum import read_tum


@pytest.fixture(scope='module')
def runs(walk_bag, tmp_path_factory):
    out = tmp_path_factory.mktemp('map')
    bag = walk_bag
    map_path = out / 'home.db'
    folders = []
    for run in ('first', 'second'):
        options = ReplayOptions(out / run, map_path=str(map_path), progress=False)
        (result,) = replay([bag], options)
        assert not result.error, result.error
        folders.append(result.folder)
    return map_path, folders


def _run(folder):
    return json.loads((folder / 'run.json').read_text())


def test_first_session_saves_a_map_with_every_layer(runs):
    map_path, (first, _) = runs
    saves = _run(first)['nodes']['map_server']['diagnostics']['saves']
    assert saves and saves[0]['session'] == 1
    assert saves[0]['places'] >= 2 and saves[0]['landmarks'] > 100
    # A first session, far within its budget, keeps what it saw: no landmark is weak yet and
    # none goes for the budget. Only what a place crowding a better one saw outside the better
    # one's view goes with that place (a place holds one view's worth).
    pruned = saves[0]['pruned']
    assert pruned['weak_landmarks'] == pruned['budget_landmarks'] == pruned['budget_places'] == 0
    assert saves[0]['landmarks'] <= saves[0]['new']
    assert saves[0]['file_bytes'] > 0
    with BagReader(first / 'bag') as reader:
        grids = [from_occupancy_grid(m) for _, _, m in reader.messages({'/map'})]
        assert any(True for _ in reader.messages({'/map_layers'}))
    # What /map calls free must be free in the simulated home (a planner drives there).
    grid = grids[-1]
    free = np.argwhere(grid.data == 0)
    assert len(free) > 100
    xy = (free[:, ::-1] + 0.5) * grid.resolution_m + grid.origin[:2, 3]
    gt_t, gt_T = read_tum(first / 'ground_truth.tum')
    est_t, est_T = read_tum(first / 'slam.tum')
    i, j = associate(est_t, gt_t)
    align = umeyama(est_T[i, :3, 3], gt_T[j, :3, 3])
    true_xy = xy @ align[:2, :2].T + align[:2, 3]
    floor = FloorGrid(load_home_yaml(Path(_run(first)['bag']).parent / 'home.yaml'))
    truly_free = [floor.occupied[floor.cell(q)] == 0 for q in true_xy]
    assert np.mean(truly_free) > 0.95
    assert b'\xff\xd8\xff' not in map_path.read_bytes()  # no JPEG went in


def test_second_session_relocalizes_at_the_start_and_merges(runs):
    map_path, (first, second) = runs
    backend = _run(second)['nodes']['backend']['diagnostics']
    assert backend['map_places'] >= 2 and not backend['map_error']
    relocs = backend['relocalizations']
    assert relocs and relocs[0]['keyframes'] <= 4, relocs
    # Found on a keyframe within a second of the first (keyframes reach the backend a second
    # after they were taken, once their landmarks passed the VO's depth check).
    assert relocs[0]['found_ns'] - relocs[0]['requested_ns'] <= 1e9
    # The same session again, relocalized in the first run's map: poses from then on without
    # a gap (over two seconds of them), and they agree.
    t1, T1 = read_tum(first / 'slam.tum')
    t2, T2 = read_tum(second / 'slam.tum')
    i, j = associate(t2, t1)
    assert t2[-1] - t2[0] > 2e9 and len(i) >= 0.9 * np.sum(t1 >= t2[0])
    assert np.max(np.linalg.norm(T2[i, :3, 3] - T1[j, :3, 3], axis=1)) < 0.05
    m = load(map_path)
    assert m.sessions == 2
    # Replayed on the same path, its places crowd the first run's and go, or replace them;
    # what its keyframes saw again counts a second session.
    assert (m.landmarks.sessions_seen == 2).mean() > 0.5
    reobserved = _run(second)['nodes']['map_server']['diagnostics']['saves'][-1]['reobserved']
    assert (
        reobserved
        > 0.5 * _run(first)['nodes']['map_server']['diagnostics']['saves'][0]['landmarks']
    )
    con = sqlite3.connect(map_path)
    assert con.execute('PRAGMA journal_mode').fetchone() == ('wal',)
