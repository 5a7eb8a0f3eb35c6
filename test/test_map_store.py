"""The map file: round trip, atomic saves under SIGKILL, clear errors for files that are not
our maps, migrations, and no room for images."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from astro_mapping import store
from astro_mapping.layers import (
    Change,
    Door,
    FloorLayer,
    Landmarks,
    LongTermMap,
    Place,
    Room,
    RoomLayer,
)
from astro_mapping.store import MapFileError, load, save
from astro_slam.transforms import make_transform

ROOT = Path(__file__).resolve().parents[1]


def make_map(n_landmarks: int = 500, n_places: int = 20, seed: int = 0) -> LongTermMap:
    rng = np.random.default_rng(seed)
    n = n_landmarks
    landmarks = Landmarks(
        np.arange(n, dtype=np.int64),
        rng.normal(size=(n, 3)).astype(np.float32),
        rng.integers(0, 256, (n, 32), dtype=np.uint8),
        *(rng.integers(0, 9, n).astype(np.int32) for _ in range(5)),
    )
    places = [
        Place(
            i,
            10**18 + i,
            1,
            make_transform(t=rng.normal(size=3)),
            rng.choice(n, 50, replace=False).astype(np.int64),
            i % 3,
        )
        for i in range(n_places)
    ]
    floor = FloorLayer(
        0.05, np.array([-1.0, -2.0]), rng.uniform(-5, 5, (40, 60)).astype(np.float32)
    )
    floor.changes = [Change(1, 'appeared', np.array([0.5, 0.2]), 0.3)]
    rooms = RoomLayer(
        rng.integers(-1, 3, (40, 60)).astype(np.int16),
        [Room(i, rng.normal(size=2), 10.0 + i) for i in range(3)],
        [Door((0, 1), np.array([1.0, 2.0]))],
    )
    K = np.array([[460.0, 0, 320], [0, 460, 240], [0, 0, 1]])
    return LongTermMap(
        3, landmarks, places, floor, rooms, K, make_transform(t=[0.1, 0, 0.3]), 'map', n, n_places
    )


def assert_same(a: LongTermMap, b: LongTermMap) -> None:
    assert a.sessions == b.sessions and a.frame_id == b.frame_id and a.features == b.features
    assert a.next_landmark_id == b.next_landmark_id and a.next_place_id == b.next_place_id
    for x, y in zip(a.landmarks._arrays(), b.landmarks._arrays(), strict=True):
        np.testing.assert_array_equal(x, y)
    assert [p.id for p in a.places] == [p.id for p in b.places]
    for p, q in zip(a.places, b.places, strict=True):
        np.testing.assert_allclose(p.T_map_base, q.T_map_base, atol=1e-12)
        np.testing.assert_array_equal(p.landmark_ids, q.landmark_ids)
        assert (p.t_ns, p.session, p.room) == (q.t_ns, q.session, q.room)
    np.testing.assert_allclose(a.floor.log_odds, b.floor.log_odds, atol=0.026)  # int8 steps
    np.testing.assert_array_equal(a.rooms.labels, b.rooms.labels)
    assert len(a.rooms.doors) == len(b.rooms.doors) and len(a.floor.changes) == len(
        b.floor.changes
    )
    np.testing.assert_allclose(a.K, b.K)


def test_round_trip(tmp_path):
    m = make_map()
    path = tmp_path / 'home.db'
    size = save(m, path)
    assert size == path.stat().st_size
    assert_same(m, load(path))
    m.sessions = 4
    save(m, path)  # over the previous one
    assert load(path).sessions == 4


def test_the_map_records_its_descriptors_and_older_maps_hold_orb(tmp_path):
    m = make_map()
    m.features = 'learned'
    path = tmp_path / 'home.db'
    save(m, path)
    assert load(path).features == 'learned'
    assert load(path, features='learned').features == 'learned'
    with pytest.raises(MapFileError, match='holds learned descriptors but features is orb'):
        load(path, features='orb')
    with sqlite3.connect(path) as con:  # as maps saved before the key existed
        con.execute("DELETE FROM meta WHERE key = 'features'")
    assert load(path).features == 'orb'


def test_a_kill_during_save_leaves_the_previous_map(tmp_path):
    path = tmp_path / 'home.db'
    before = make_map(seed=1)
    save(before, path)
    # A child saves a much larger map and is SIGKILLed inside the transaction, after the
    # landmarks went in and while the places are being written.
    child = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT / 'test')!r})
        from test_map_store import make_map
        from astro_mapping import store
        original = store._insert_places
        def slow(con, places):
            original(con, places)
            print('inside', flush=True)
            time.sleep(60)
        store._insert_places = slow
        store.save(make_map(20000, 200, seed=2), {str(path)!r})
        """
    )
    proc = subprocess.Popen(
        [sys.executable, '-c', child], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert proc.stdout.readline().strip() == 'inside'
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert Path(f'{path}-wal').exists()  # the torn transaction is there, and ignored
    assert_same(before, load(path))
    save(make_map(seed=3), path)  # and the file still takes saves
    assert_same(make_map(seed=3), load(path))


def test_a_corrupt_file_gives_a_clear_error(tmp_path):
    path = tmp_path / 'home.db'
    save(make_map(), path)
    data = bytearray(path.read_bytes())
    data[100:4096] = os.urandom(3996)  # the header's tail and the schema page
    path.write_bytes(bytes(data))
    with pytest.raises(MapFileError, match=r'corrupt|cannot open|not an astro_slam map'):
        load(path)
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    with pytest.raises(MapFileError):
        load(path)


def test_foreign_files_are_refused_and_never_overwritten(tmp_path):
    text = tmp_path / 'map.yaml'
    text.write_text('image: map.pgm\nresolution: 0.05\n')
    with pytest.raises(MapFileError, match='not an SQLite file'):
        load(text)
    with pytest.raises(MapFileError, match='not an SQLite file'):
        save(make_map(), text)
    assert text.read_text().startswith('image:')
    other = tmp_path / 'other.db'
    con = sqlite3.connect(other)
    con.execute('CREATE TABLE notes (t TEXT)')
    con.commit()
    con.close()
    with pytest.raises(MapFileError, match='not an astro_slam map'):
        load(other)
    with pytest.raises(MapFileError, match='not an astro_slam map'):
        save(make_map(), other)
    assert sqlite3.connect(other).execute('SELECT count(*) FROM notes').fetchone() == (0,)
    with pytest.raises(MapFileError, match='no map file'):
        load(tmp_path / 'missing.db')


def test_schema_versions(tmp_path, monkeypatch):
    path = tmp_path / 'home.db'
    save(make_map(), path)
    con = sqlite3.connect(path)
    con.execute(f'PRAGMA user_version = {store.SCHEMA_VERSION + 1}')
    con.commit()
    con.close()
    with pytest.raises(MapFileError, match='newer than this code'):
        load(path)
    # A version-1 file under code at version 2: the map server migrates it in place, a
    # read-only reader asks for that.
    con = sqlite3.connect(path)
    con.execute('PRAGMA user_version = 1')
    con.commit()
    con.close()
    monkeypatch.setattr(store, 'SCHEMA_VERSION', 2)
    with pytest.raises(MapFileError, match='needs migrating'):
        load(path, readonly=True)
    monkeypatch.setitem(
        store.MIGRATIONS, 1, lambda con: con.execute('ALTER TABLE places ADD COLUMN note TEXT')
    )
    assert load(path, readonly=False).sessions == 3
    con = sqlite3.connect(path)
    assert con.execute('PRAGMA user_version').fetchone() == (2,)
    assert 'note' in [row[1] for row in con.execute('PRAGMA table_info(places)')]
    con.close()
    assert load(path).sessions == 3  # migrated for good


def test_the_schema_has_no_room_for_images(tmp_path):
    """Every column is a number, short text, or a blob of a declared small kind; a saved map
    from real keyframes holds no image signature and no blob larger than a compressed grid."""
    path = tmp_path / 'home.db'
    save(make_map(), path)
    con = sqlite3.connect(path)
    blobs = {}
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        for _, name, kind, *_ in con.execute(f'PRAGMA table_info({table})'):
            if kind == 'BLOB':
                blobs[f'{table}.{name}'] = [
                    len(b) for (b,) in con.execute(f'SELECT {name} FROM {table}')
                ]
    assert set(blobs) == {
        'landmarks.descriptor',
        'places.pose',
        'places.landmark_ids',
        'floor.log_odds',
        'floor.room_labels',
    }
    assert set(blobs['landmarks.descriptor']) == {32} and set(blobs['places.pose']) == {56}
    data = path.read_bytes()
    assert b'\xff\xd8\xff' not in data and b'\x89PNG' not in data
