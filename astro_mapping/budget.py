"""Keeping the map inside its memory budget: what each layer costs, what each landmark is
worth, and what goes first.

Every session, whatever the budget: landmarks missed more often than seen (and tentative ones
missed once) go, places that crowd another place (closer than `place_spacing_m` and
`place_spacing_rad`) keep only the best one, and landmarks no place refers to go. Then, while
over budget, the lowest-scoring landmarks go; each place keeps its best
`min_landmarks_per_place` and each room its best `min_places_per_room` places, so every room
stays relocalizable; only when that floor itself does not fit do places go.

A landmark's score multiplies persistence (share of sessions since it appeared that saw it),
recency (halving every `recency_half_life` sessions unseen) and distinctiveness (the inverse
document frequency of its visual word: a corner of a common texture is worth less); coverage
enters through the per-place and per-room floors.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from astro_mapping.layers import DESCRIPTOR_BYTES, LongTermMap, Place
from astro_slam.backend.vocabulary import Vocabulary
from astro_slam.transforms import yaw_of

LANDMARK_BYTES = 8 + 12 + DESCRIPTOR_BYTES + 5 * 4  # id, xyz, descriptor, five counters
PLACE_BYTES = 8 + 8 + 4 + 4 + 7 * 8  # id, stamp, session, room, pose
PLACE_REF_BYTES = 4


@dataclass(frozen=True)
class BudgetParams:
    budget_bytes: int = 8_000_000
    prune: bool = True  # False keeps everything (for comparison)
    place_spacing_m: float = 0.4
    place_spacing_rad: float = 0.5
    min_landmarks_per_place: int = 60
    # A place is one view: no more than 9 of 10 keyframes hold (the VO's keyframes in the
    # simulated month: median 150 landmarks, 90th percentile 290). A place that absorbed its
    # crowd's landmarks session after session matched every query a little and ranked first
    # for all of them (the month's pruned map held places of 1600; capped at 400, they still
    # filled the top five).
    max_landmarks_per_place: int = 300
    # Absorbed landmarks farther than this from the kept place's camera are left out (about
    # the stereo's reach).
    max_depth_m: float = 6.0
    min_places_per_room: int = 4
    recency_half_life: float = 5.0  # sessions


def layer_bytes(m: LongTermMap) -> dict[str, int]:
    """Bytes per layer as saved (the file adds SQLite's page overhead)."""
    floor = m.floor.log_odds
    return {
        'landmarks': len(m.landmarks) * LANDMARK_BYTES,
        'places': sum(PLACE_BYTES + PLACE_REF_BYTES * len(p.landmark_ids) for p in m.places),
        'floor': len(zlib.compress(np.round(floor * 20).astype(np.int8).tobytes(), 6))
        + 16 * len(m.floor.changes),
        'rooms': len(zlib.compress(m.rooms.labels.astype('<i2').tobytes(), 6))
        + 24 * (len(m.rooms.rooms) + len(m.rooms.doors)),
    }


def landmark_scores(m: LongTermMap, vocabulary: Vocabulary, half_life: float = 5.0) -> np.ndarray:
    lm = m.landmarks
    if not len(lm):
        return np.zeros(0)
    age = m.sessions - lm.first_session + 1
    persistence = lm.sessions_seen / np.maximum(age, 1)
    recency = 0.5 ** ((m.sessions - lm.last_session) / half_life)
    idf = vocabulary.idf[vocabulary.assign(lm.descriptors)]
    distinct = idf / max(float(vocabulary.idf.max()), 1e-9)
    return persistence * recency * (0.5 + 0.5 * distinct)


def prune(m: LongTermMap, vocabulary: Vocabulary, p: BudgetParams) -> dict[str, int]:
    """Trims `m` in place; returns what went, by kind."""
    gone = {'weak_landmarks': 0, 'crowded_places': 0, 'budget_landmarks': 0, 'budget_places': 0}
    if not p.prune:
        return gone
    lm = m.landmarks
    weak = (lm.misses > lm.sessions_seen) | ((lm.sessions_seen == 1) & (lm.misses >= 1))
    gone['weak_landmarks'] = int(weak.sum())
    m.landmarks = lm.subset(~weak)
    scores = landmark_scores(m, vocabulary, p.recency_half_life)
    before = len(m.places)
    m.places = _thin_places(m, dict(zip(m.landmarks.ids.tolist(), scores, strict=True)), p)
    gone['crowded_places'] = before - len(m.places)
    _drop_unreferenced(m)
    floor = 1.0
    while len(m.landmarks) and (size := sum(layer_bytes(m).values())) > p.budget_bytes:
        scores = landmark_scores(m, vocabulary, p.recency_half_life)
        protected = _protected(m, scores, max(int(p.min_landmarks_per_place * floor), 5))
        candidates = np.flatnonzero(~protected)
        if len(candidates):
            drop = _fewest_to_free(m, candidates, scores, size - p.budget_bytes)
            keep = np.ones(len(m.landmarks), bool)
            keep[drop] = False
            gone['budget_landmarks'] += len(drop)
            m.landmarks = m.landmarks.subset(keep)
            _drop_unreferenced(m)
        elif floor > 0.1:
            floor *= 0.7  # the per-place floor itself does not fit: lower it
        elif dropped := _drop_weakest_place(m, scores, p.min_places_per_room):
            gone['budget_places'] += dropped
        else:
            break  # every room is down to its least: the budget is too small for this home
    return gone


def _fewest_to_free(m: LongTermMap, rows: np.ndarray, scores: np.ndarray, over: int) -> np.ndarray:
    """The lowest-scoring of `rows` that together free `over` bytes: each its own bytes and one
    reference per place that holds it. Exact, so that a map at its budget stays there: a
    margin on the count trimmed a share of each day's inflow besides, and the map grew that
    back the next day."""
    refs = np.bincount(
        m.landmarks.row_finder()(
            np.concatenate([pl.landmark_ids for pl in m.places] or [m.landmarks.ids[:0]])
        ),
        minlength=len(m.landmarks),
    )
    rows = rows[np.argsort(scores[rows], kind='stable')]
    freed = np.cumsum(LANDMARK_BYTES + PLACE_REF_BYTES * refs[rows])
    return rows[: int(np.searchsorted(freed, over)) + 1]


def _thin_places(m: LongTermMap, score: dict[int, float], p: BudgetParams) -> list[Place]:
    """Of places crowding each other, the one whose landmarks are worth most stays, and takes
    over those of the others' landmarks it can see itself (seen from within a step of it, they
    help it relocalize), up to `max_landmarks_per_place`, the best first."""
    places = m.places
    value = [sum(score.get(i, 0.0) for i in pl.landmark_ids.tolist()) for pl in places]
    position = np.array([pl.T_map_base[:3, 3] for pl in places]).reshape(-1, 3)
    heading = np.array([yaw_of(pl.T_map_base) for pl in places])
    kept: list[int] = []
    absorbed: dict[int, list[np.ndarray]] = {}
    for i in np.argsort(value)[::-1]:
        near = np.linalg.norm(position[kept] - position[i], axis=1) <= p.place_spacing_m
        turn = np.abs(np.angle(np.exp(1j * (heading[kept] - heading[i]))))
        crowded = np.flatnonzero(near & (turn <= p.place_spacing_rad))
        if len(crowded):
            absorbed.setdefault(kept[crowded[0]], []).append(places[i].landmark_ids)
        else:
            kept.append(int(i))
    rows_of = m.landmarks.row_finder()
    for i, extra in absorbed.items():
        own = places[i].landmark_ids
        others = np.setdiff1d(np.concatenate(extra), own)
        others = others[np.isin(others, m.landmarks.ids)]  # weak ones went already
        others = others[_in_view(m, places[i], rows_of(others), p.max_depth_m)]
        ids = np.r_[own, others]
        if len(ids) > p.max_landmarks_per_place:
            worth = np.array([score.get(j, 0.0) for j in ids.tolist()])
            ids = ids[np.argsort(-worth, kind='stable')[: p.max_landmarks_per_place]]
        places[i].landmark_ids = np.sort(ids)
    return [places[i] for i in sorted(kept)]


def _in_view(m: LongTermMap, place: Place, rows: np.ndarray, max_depth_m: float) -> np.ndarray:
    """Which landmarks (rows) fall in the place's image, in front of it and within reach."""
    xyz = m.in_camera(place, rows)
    z = xyz[:, 2]
    front = (z > 0.1) & (z < max_depth_m)
    uv = xyz[:, :2] / np.where(front, z, 1.0)[:, None] * m.K[[0, 1], [0, 1]] + m.K[:2, 2]
    width, height = 2 * m.K[0, 2], 2 * m.K[1, 2]
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < width) & (uv[:, 1] >= 0) & (uv[:, 1] < height)
    return front & inside


def _protected(m: LongTermMap, scores: np.ndarray, per_place: int) -> np.ndarray:
    """Landmarks that carry a place's relocalization: its best `per_place`."""
    out = np.zeros(len(m.landmarks), bool)
    rows_of = m.landmarks.row_finder()
    for pl in m.places:
        rows = rows_of(pl.landmark_ids)
        if len(rows):
            out[rows[np.argsort(scores[rows])[::-1][:per_place]]] = True
    return out


def _drop_unreferenced(m: LongTermMap) -> None:
    """Place references to landmarks that went, and landmarks no place refers to."""
    alive = m.landmarks.ids
    for pl in m.places:
        pl.landmark_ids = pl.landmark_ids[np.isin(pl.landmark_ids, alive)]
    referenced = np.unique(np.concatenate([pl.landmark_ids for pl in m.places] or [alive[:0]]))
    m.landmarks = m.landmarks.subset(np.isin(alive, referenced))


def _drop_weakest_place(m: LongTermMap, scores: np.ndarray, min_per_room: int) -> int:
    """Drops the least valuable place of the room with the most places; 0 when every room is
    down to `min_per_room`."""
    rooms: dict[int, list[Place]] = {}
    for pl in m.places:
        rooms.setdefault(pl.room, []).append(pl)
    if not m.places or max(len(v) for v in rooms.values()) <= min_per_room:
        return 0
    biggest = max(rooms.values(), key=len)
    score = dict(zip(m.landmarks.ids.tolist(), scores, strict=True))
    worst = min(biggest, key=lambda pl: sum(score.get(i, 0.0) for i in pl.landmark_ids.tolist()))
    m.places = [pl for pl in m.places if pl is not worst]
    _drop_unreferenced(m)
    return 1
