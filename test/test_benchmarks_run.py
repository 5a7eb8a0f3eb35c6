"""`benchmarks/run`: every benchmark of the suite has its place in docs/BENCHMARKS.md and can
write its Markdown; a result replaces exactly its own block and nothing around it."""

from __future__ import annotations

import importlib.util
import re
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _run_module():
    loader = SourceFileLoader('benchmarks_run', str(ROOT / 'benchmarks' / 'run'))
    spec = importlib.util.spec_from_loader('benchmarks_run', loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules['benchmarks_run'] = module  # dataclasses look their module up there
    loader.exec_module(module)
    return module


run = _run_module()


def test_every_benchmark_of_the_suite_has_one_block_and_writes_markdown():
    doc = (ROOT / 'docs' / 'BENCHMARKS.md').read_text(encoding='utf-8')
    for b in run.SUITE:
        run.splice(doc, b.name, 'x')  # raises without exactly one pair of markers
        source = (ROOT / 'benchmarks' / f'{b.script}.py').read_text(encoding='utf-8')
        assert 'add_markdown_option(parser)' in source and 'write_markdown(' in source, b.script
    named = set(re.findall(r'<!-- benchmarks/run: (\w+) -->', doc))
    assert named == {b.name for b in run.SUITE}  # no orphan block that nothing rewrites


def test_splice_replaces_only_its_own_block():
    doc = (
        'intro\n<!-- benchmarks/run: a -->\nold a\n<!-- /benchmarks/run: a -->\nmiddle\n'
        '<!-- benchmarks/run: b -->\nold b\n<!-- /benchmarks/run: b -->\nend\n'
    )
    out = run.splice(doc, 'a', 'new a\n| 1 |\n')
    assert out == doc.replace('old a', 'new a\n| 1 |')
    assert run.splice(out, 'b', r'back\slash \1').count(r'back\slash \1') == 1
    with pytest.raises(ValueError, match='c'):
        run.splice(doc, 'c', 'x')
    with pytest.raises(ValueError):
        run.splice(doc + '<!-- benchmarks/run: a -->\n', 'a', 'x')


def test_a_benchmark_rewrites_its_block_end_to_end(tmp_path):
    """The fastest benchmark through the real runner, on a copy of the document."""
    doc = tmp_path / 'BENCHMARKS.md'
    doc.write_text((ROOT / 'docs' / 'BENCHMARKS.md').read_text(encoding='utf-8'))
    before = doc.read_text()
    assert run.main(['--only', 'map_load', '--doc', str(doc), '--work', str(tmp_path / 'w')]) == 0
    after = doc.read_text()
    begin, end = run.markers('map_load')
    block = after[after.index(begin) : after.index(end)]
    assert '\n    python benchmarks/map_load.py --budget-mb 1 8\n' in block  # a code block
    assert '| 8 MB |' in block
    assert after[: after.index(begin)] == before[: before.index(begin)]
    assert after[after.index(end) :] == before[before.index(end) :]
