"""The map file: SQLite in WAL mode, one transaction per save, a versioned schema.

A save replaces every table's rows inside one transaction, so a process killed mid-save leaves
the previous map (SQLite rolls the unfinished transaction back on the next open). The file is
marked as ours by PRAGMA application_id and versioned by PRAGMA user_version; an older version
is migrated in place by the steps in MIGRATIONS, a newer or foreign one is refused. Arrays go
in as little-endian blobs of a declared dtype; nothing is pickled, and there is no table for
images.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from astro_mapping.layers import (
    DESCRIPTOR_BYTES,
    Change,
    Door,
    FloorLayer,
    Landmarks,
    LongTermMap,
    Place,
    Room,
    RoomLayer,
)
from astro_slam.transforms import from_quaternion, to_quaternion

APPLICATION_ID = 0x41535452  # 'ASTR'
SCHEMA_VERSION = 1
_SQLITE_MAGIC = b'SQLite format 3\x00'
_LOG_ODDS_SCALE = 20.0  # int8 quantization of the floor's log-odds (0.05 steps, +-6.35)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS landmarks (
    id INTEGER PRIMARY KEY, x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL,
    descriptor BLOB NOT NULL, first_session INTEGER NOT NULL, last_session INTEGER NOT NULL,
    sessions_seen INTEGER NOT NULL, misses INTEGER NOT NULL, observations INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS places (
    id INTEGER PRIMARY KEY, t_ns INTEGER NOT NULL, session INTEGER NOT NULL,
    room INTEGER NOT NULL, pose BLOB NOT NULL, landmark_ids BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS floor (
    id INTEGER PRIMARY KEY CHECK (id = 1), resolution REAL NOT NULL, origin_x REAL NOT NULL,
    origin_y REAL NOT NULL, height INTEGER NOT NULL, width INTEGER NOT NULL,
    log_odds BLOB NOT NULL, room_labels BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS changes (
    session INTEGER NOT NULL, kind TEXT NOT NULL, x REAL NOT NULL, y REAL NOT NULL,
    area REAL NOT NULL);
CREATE TABLE IF NOT EXISTS rooms (
    id INTEGER PRIMARY KEY, x REAL NOT NULL, y REAL NOT NULL, area REAL NOT NULL);
CREATE TABLE IF NOT EXISTS doors (
    a INTEGER NOT NULL, b INTEGER NOT NULL, x REAL NOT NULL, y REAL NOT NULL);
"""
_TABLES = ('meta', 'landmarks', 'places', 'floor', 'changes', 'rooms', 'doors')

# version -> the step that brings a file of that version to version + 1 (inside the load's
# transaction). Version 1 is the first; a schema change adds its step here.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}


class MapFileError(Exception):
    """The file is not a map this code can read (missing, corrupt, foreign or too new)."""


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    if readonly:
        con = sqlite3.connect(f'file:{path}?mode=ro', uri=True, isolation_level=None)
    else:
        con = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        con.execute('PRAGMA journal_mode=WAL')
        con.execute('PRAGMA synchronous=FULL')
    return con


def _check_header(path: Path) -> None:
    with path.open('rb') as f:
        head = f.read(len(_SQLITE_MAGIC))
    if head and head != _SQLITE_MAGIC:
        raise MapFileError(f'{path}: not an astro_slam map (not an SQLite file)')


def _identify(con: sqlite3.Connection, path: Path) -> int:
    """The file's schema version; raises MapFileError for another application's file."""
    app = con.execute('PRAGMA application_id').fetchone()[0]
    tables = con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
    if app != APPLICATION_ID:
        if app == 0 and tables == 0:
            return 0  # a new, empty database
        raise MapFileError(
            f'{path}: not an astro_slam map (SQLite application_id {app:#x}, '
            f'expected {APPLICATION_ID:#x}); refusing to read or overwrite it'
        )
    return con.execute('PRAGMA user_version').fetchone()[0]


def save(m: LongTermMap, path: Path) -> int:
    """Writes the map atomically; returns the file's size in bytes.

    Raises:
        MapFileError: `path` is another application's file or a newer map.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        _check_header(path)
    con = _connect(path, readonly=False)
    try:
        version = _identify(con, path)
        if version > SCHEMA_VERSION:
            raise MapFileError(f'{path}: map schema {version} is newer than this code')
        con.execute('BEGIN IMMEDIATE')
        try:
            if version:
                _migrate(con, version, path)
            # One statement at a time: executescript() would commit the open transaction.
            for statement in _SCHEMA.split(';'):
                if statement.strip():
                    con.execute(statement)
            for table in _TABLES:
                con.execute(f'DELETE FROM {table}')  # fixed names, no user input
            _write(con, m)
            con.execute(f'PRAGMA application_id = {APPLICATION_ID}')
            con.execute(f'PRAGMA user_version = {SCHEMA_VERSION}')
            con.execute('COMMIT')
        except BaseException:
            con.execute('ROLLBACK')
            raise
        con.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    except sqlite3.DatabaseError as err:
        raise MapFileError(f'{path}: cannot write the map ({err})') from None
    finally:
        con.close()
    return path.stat().st_size


def _migrate(con: sqlite3.Connection, version: int, path: Path) -> None:
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise MapFileError(f'{path}: no migration from map schema {version}')
        MIGRATIONS[version](con)
        version += 1
        con.execute(f'PRAGMA user_version = {version}')


def _blob(a: np.ndarray, dtype: str) -> bytes:
    return np.ascontiguousarray(a, dtype=np.dtype(dtype)).tobytes()


def _write(con: sqlite3.Connection, m: LongTermMap) -> None:
    floor, lm = m.floor, m.landmarks
    meta = {
        'sessions': m.sessions,
        'frame_id': m.frame_id,
        'K': np.asarray(m.K, float).ravel().tolist(),
        'T_base_camera': np.asarray(m.T_base_camera, float).ravel().tolist(),
        'next_landmark_id': m.next_landmark_id,
        'next_place_id': m.next_place_id,
        'features': m.features,
    }
    con.executemany(
        'INSERT INTO meta (key, value) VALUES (?, ?)',
        [(k, json.dumps(v)) for k, v in meta.items()],
    )
    con.executemany(
        'INSERT INTO landmarks (id, x, y, z, descriptor, first_session, last_session, '
        'sessions_seen, misses, observations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        zip(
            lm.ids.tolist(),
            *lm.xyz.astype(float).T.tolist(),
            [bytes(d) for d in lm.descriptors],
            lm.first_session.tolist(),
            lm.last_session.tolist(),
            lm.sessions_seen.tolist(),
            lm.misses.tolist(),
            lm.observations.tolist(),
            strict=True,
        ),
    )
    _insert_places(con, m.places)
    h, w = floor.log_odds.shape
    quantized = np.clip(np.round(floor.log_odds * _LOG_ODDS_SCALE), -127, 127)
    labels = m.rooms.labels if m.rooms.labels.shape == (h, w) else np.full((h, w), -1)
    con.execute(
        'INSERT INTO floor (id, resolution, origin_x, origin_y, height, width, log_odds, '
        'room_labels) VALUES (1, ?, ?, ?, ?, ?, ?, ?)',
        (
            floor.resolution_m,
            float(floor.origin_xy[0]),
            float(floor.origin_xy[1]),
            h,
            w,
            zlib.compress(_blob(quantized, 'i1'), 6),
            zlib.compress(_blob(labels, '<i2'), 6),
        ),
    )
    con.executemany(
        'INSERT INTO changes (session, kind, x, y, area) VALUES (?, ?, ?, ?, ?)',
        [(c.session, c.kind, float(c.xy[0]), float(c.xy[1]), c.area_m2) for c in floor.changes],
    )
    con.executemany(
        'INSERT INTO rooms (id, x, y, area) VALUES (?, ?, ?, ?)',
        [(r.id, float(r.centroid[0]), float(r.centroid[1]), r.area_m2) for r in m.rooms.rooms],
    )
    con.executemany(
        'INSERT INTO doors (a, b, x, y) VALUES (?, ?, ?, ?)',
        [(d.rooms[0], d.rooms[1], float(d.xy[0]), float(d.xy[1])) for d in m.rooms.doors],
    )


def _insert_places(con: sqlite3.Connection, places: list[Place]) -> None:
    rows = []
    for p in places:
        t, q = to_quaternion(p.T_map_base)
        rows.append(
            (
                p.id,
                p.t_ns,
                p.session,
                p.room,
                _blob(np.r_[t, q], '<f8'),
                _blob(p.landmark_ids, '<u4'),
            )
        )
    con.executemany(
        'INSERT INTO places (id, t_ns, session, room, pose, landmark_ids) '
        'VALUES (?, ?, ?, ?, ?, ?)',
        rows,
    )


def load(path: Path, readonly: bool = True, features: str | None = None) -> LongTermMap:
    """Reads a map; `readonly=False` (the map server) also migrates an older schema in place.
    With `features`, a map of another extractor's descriptors is refused too: its landmarks
    could not be matched.

    Raises:
        MapFileError: missing, corrupt, foreign or newer file, or other descriptors, with the
            reason.
    """
    path = Path(path)
    if not path.is_file():
        raise MapFileError(f'{path}: no map file there')
    _check_header(path)
    try:
        con = _connect(path, readonly)
    except sqlite3.DatabaseError as err:
        raise MapFileError(f'{path}: cannot open the map ({err})') from None
    try:
        version = _identify(con, path)
        if version == 0:
            raise MapFileError(f'{path}: an empty SQLite file, not a map')
        if version > SCHEMA_VERSION:
            raise MapFileError(
                f'{path}: map schema {version} is newer than this code ({SCHEMA_VERSION}); '
                'update astro_slam'
            )
        if version < SCHEMA_VERSION:
            if readonly:
                raise MapFileError(
                    f'{path}: map schema {version} needs migrating; the map server does it'
                )
            con.execute('BEGIN IMMEDIATE')
            _migrate(con, version, path)
            con.execute('COMMIT')
        m = _read(con, path)
        if features is not None and m.features != features:
            raise MapFileError(f'{path} holds {m.features} descriptors but features is {features}')
        return m
    except sqlite3.DatabaseError as err:
        raise MapFileError(f'{path}: corrupt map file ({err})') from None
    except (KeyError, ValueError, TypeError, zlib.error) as err:
        raise MapFileError(f'{path}: inconsistent map file ({err})') from None
    finally:
        con.close()


def _array(blob: bytes, dtype: str, shape: tuple[int, ...] = (-1,)) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.dtype(dtype)).reshape(shape).copy()


def _read(con: sqlite3.Connection, path: Path) -> LongTermMap:
    meta = {k: json.loads(v) for k, v in con.execute('SELECT key, value FROM meta')}
    rows = con.execute(
        'SELECT id, x, y, z, descriptor, first_session, last_session, sessions_seen, '
        'misses, observations FROM landmarks ORDER BY id'
    ).fetchall()
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 10
    if any(len(d) != DESCRIPTOR_BYTES for d in cols[4]):
        raise ValueError(f'landmark descriptors must be {DESCRIPTOR_BYTES} bytes')
    landmarks = Landmarks(
        np.array(cols[0], np.int64),
        np.array(cols[1:4], np.float32).T.reshape(n, 3),
        np.frombuffer(b''.join(cols[4]), np.uint8).reshape(n, DESCRIPTOR_BYTES).copy(),
        *(np.array(c, np.int32) for c in cols[5:10]),
    )
    places = []
    for pid, t_ns, session, room, pose, ids in con.execute(
        'SELECT id, t_ns, session, room, pose, landmark_ids FROM places ORDER BY id'
    ):
        tq = _array(pose, '<f8')
        if tq.shape != (7,):
            raise ValueError(f'place {pid} has a pose of {tq.size} numbers')
        places.append(
            Place(
                pid,
                t_ns,
                session,
                from_quaternion(tq[:3], tq[3:]),
                _array(ids, '<u4').astype(np.int64),
                room,
            )
        )
    res, ox, oy, h, w, odds, labels = con.execute(
        'SELECT resolution, origin_x, origin_y, height, width, log_odds, room_labels FROM floor'
    ).fetchone()
    changes = [
        Change(s, kind, np.array([x, y]), area)
        for s, kind, x, y, area in con.execute('SELECT session, kind, x, y, area FROM changes')
    ]
    floor = FloorLayer(
        res,
        np.array([ox, oy]),
        _array(zlib.decompress(odds), 'i1', (h, w)).astype(np.float32) / _LOG_ODDS_SCALE,
        changes,
    )
    rooms = RoomLayer(
        _array(zlib.decompress(labels), '<i2', (h, w)),
        [
            Room(i, np.array([x, y]), a)
            for i, x, y, a in con.execute('SELECT id, x, y, area FROM rooms')
        ],
        [
            Door((a, b), np.array([x, y]))
            for a, b, x, y in con.execute('SELECT a, b, x, y FROM doors')
        ],
    )
    m = LongTermMap(
        int(meta['sessions']),
        landmarks,
        places,
        floor,
        rooms,
        np.array(meta['K'], float).reshape(3, 3),
        np.array(meta['T_base_camera'], float).reshape(4, 4),
        str(meta['frame_id']),
        int(meta['next_landmark_id']),
        int(meta['next_place_id']),
        # Maps saved before learned features existed hold ORB descriptors.
        str(meta.get('features', 'orb')),
    )
    if not (np.all(np.isfinite(landmarks.xyz)) and np.all(np.isfinite(m.K))):
        raise ValueError('non-finite numbers')
    return m
