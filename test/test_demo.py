"""`astro-slam demo` end to end on three tiny days: simulated, replayed on one long-term map,
scored, and reported with its pictures."""

from __future__ import annotations

import dataclasses
import json

import pytest

pytest.importorskip('moderngl')
pytest.importorskip('matplotlib')

from astro_slam.sim.scenarios import SCENARIOS
from astro_slam.tools.demo import run_demo, table


def test_three_tiny_days_give_scores_a_table_and_a_report(tmp_path):
    demo = SCENARIOS['demo']
    sessions = tuple(dataclasses.replace(s, duration_s=5.0) for s in demo.sessions)
    scenario = dataclasses.replace(demo, sessions=sessions, width=320, height=240, camera_hz=10.0)
    scores = run_demo(tmp_path / 'demo', jobs=2, progress=False, scenario=scenario)
    names = [s.name for s in sessions]
    assert list(scores['sessions']) == names
    first = scores['sessions'][names[0]]
    assert first['ate_rmse_m'] is not None and first['ate_rmse_m'] < 0.2
    assert first['map_bytes'] and first['merged']
    saved = json.loads((tmp_path / 'demo' / 'scores.json').read_text())
    assert list(saved['sessions']) == names
    report = (tmp_path / 'demo' / 'report.md').read_text()
    assert table(scores) in report
    for picture in (
        'floor_plans.png',
        'errors.png',
        'reliability.png',
        'map.png',
        'map_memory.png',
    ):
        assert (tmp_path / 'demo' / picture).stat().st_size > 1000
        assert f']({picture})' in report
