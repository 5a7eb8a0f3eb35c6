"""The backend without ROS: keyframes in, an optimized graph and map -> odom out.

Each keyframe is placed by the fused odometry (an odometry factor to the previous one), looked
up in the place index, and its best candidates (with `rerank_candidates`, re-ranked by their
descriptor matches with the keyframe) are verified geometrically. A verified loop must
then (1) fit the graph: the correction it asks for is within what odometry can have drifted
since the candidate (or since the last loop), and (2) be confirmed: `loop_confirmations`
consecutive keyframes find loops that ask for the same correction. Only then are the loops
committed, under a Cauchy kernel as a last line of defence. A loop that fits a graph freshly
corrected by a committed one is taken at once. With local_ba, each new keyframe is also tied to
the one before by a windowed bundle adjustment (bundle_adjustment.py).

After a kidnap (the robot lifted, a relocalization request, or the service) the odometry chain
is broken: new keyframes wait outside the graph while the place index is searched without a
pose prior. A pose is committed only when `reloc_confirmations` keyframes agree on where the
robot is and no recent keyframe disagrees (look-alike rooms give disagreeing hypotheses, and
then the backend waits); the waiting keyframes then join the graph at the found pose.

A saved map (`load_map`) enters as fixed places before the first keyframe, and the session
starts the same way: relocalizing in them.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field

import numpy as np

from astro_slam.backend.bundle_adjustment import BAKeyframe, BAParams, bundle_adjust
from astro_slam.backend.config import BackendConfig
from astro_slam.backend.place_index import PlaceIndex
from astro_slam.backend.place_model import PlaceEncoder
from astro_slam.backend.pose_graph import PoseGraph
from astro_slam.backend.verification import (
    KeyframeView,
    Verification,
    VerifyParams,
    by_matches,
    verify,
)
from astro_slam.transforms import inverse, rotation_deg

MAPPING = 'mapping'
RELOCALIZING = 'relocalizing'
_EMPTY_VIEW = KeyframeView(np.zeros((0, 3)), np.zeros((0, 2)), np.zeros((0, 32), np.uint8))


@dataclass
class KeyframeInput:
    t_ns: int
    T_odom_base: np.ndarray
    odom_covariance: np.ndarray  # (6, 6) ROS order, of the odometry pose at t_ns
    T_base_camera: np.ndarray
    view: KeyframeView


@dataclass
class _Record:
    id: int
    kf: KeyframeInput
    path_m: float  # odometry distance since the first keyframe
    in_graph: bool = False
    from_map: bool = False  # a place of the saved map, fixed in the graph


@dataclass
class MapPlace:
    """A place of the saved map as the backend uses it: a fixed pose and what it saw."""

    t_ns: int
    T_map_base: np.ndarray
    T_base_camera: np.ndarray
    view: KeyframeView
    vector: np.ndarray | None = None  # its place vector, when the caller has it already


@dataclass
class LoopEvent:
    """A geometrically verified loop (query keyframe found candidate) and what became of it."""

    t_ns: int
    query: int
    candidate: int
    accepted: bool
    reason: str = ''
    inliers: int = 0
    relocalization: bool = False
    Z: np.ndarray | None = None  # measured T_candidate_query (base frames)


@dataclass
class _Hypothesis:
    query: int
    candidate: int
    Z: np.ndarray  # X_query = X_candidate Z
    X_query: np.ndarray  # where the loop puts the query keyframe in the map
    inliers: int


@dataclass
class Relocalization:
    """A committed relocalization: when it was asked for and when the pose was found."""

    requested_ns: int
    found_ns: int
    keyframes: int  # keyframes it waited for

    @property
    def seconds(self) -> float:
        return (self.found_ns - self.requested_ns) * 1e-9


@dataclass
class _Tentative:
    hyp: _Hypothesis
    index: int  # keyframe count when found


@dataclass
class BackendStats:
    keyframes: int = 0
    skipped_lifted: int = 0
    # taken before the odometry broke (a lift), handed in after it (the VO's keyframes come late)
    skipped_before_break: int = 0
    dropped_pending: int = 0  # keyframes that waited too long for a relocalization
    no_camera_info: int = 0
    verified: int = 0
    loops_accepted: int = 0
    loops_rejected: int = 0
    relocalizations: list[Relocalization] = field(default_factory=list)


def _relative_covariance(prev: KeyframeInput, cur: KeyframeInput, c: BackendConfig) -> np.ndarray:
    """Odometry noise between two keyframes: a per-metre model, or the filter's own covariance
    growth when it grew faster (a slipping wheel, a dark camera)."""
    T_rel = inverse(prev.T_odom_base) @ cur.T_odom_base
    dist = float(np.linalg.norm(T_rel[:3, 3]))
    turn = np.radians(rotation_deg(T_rel))
    sigma_t = max(c.odom_sigma_floor_m, c.odom_trans_sigma_per_m * dist)
    sigma_r = max(
        c.odom_sigma_floor_rad, c.odom_rot_sigma_per_m * dist + c.odom_rot_sigma_per_rad * turn
    )
    model = np.r_[[sigma_t**2] * 3, [sigma_r**2] * 3]
    growth = np.diag(cur.odom_covariance - prev.odom_covariance)
    R = prev.T_odom_base[:3, :3]
    pos_growth = np.abs(np.diag(R.T @ np.diag(np.maximum(growth[:3], 0)) @ R))
    grown = np.r_[pos_growth, np.maximum(growth[3:], 0)]
    variances = np.maximum(model, np.where(np.isfinite(grown), grown, 0))
    return np.diag(variances)


def _disagreement(A: np.ndarray, B: np.ndarray) -> tuple[float, float]:
    """(metres, radians) between two poses."""
    return float(np.linalg.norm(A[:3, 3] - B[:3, 3])), float(
        np.radians(rotation_deg(inverse(A) @ B))
    )


class BackendCore:
    def __init__(self, config: BackendConfig, vocabulary: PlaceEncoder) -> None:
        self.config = config
        self.vocabulary = vocabulary
        self.index = PlaceIndex(vocabulary.size)
        self.graph = PoseGraph(config.loop_kernel)
        self.verify_params = VerifyParams(
            ratio=config.match_ratio,
            ransac_px=config.ransac_px,
            min_inliers=config.min_inliers,
            min_inlier_ratio=config.min_inlier_ratio,
        )
        # A loop moves a graph that is right already: it must also hold the other way. A
        # relocalization has its own guard (several agreeing keyframes and none against), which
        # fewer verified candidates would weaken.
        self.loop_verify_params = dataclasses.replace(
            self.verify_params, two_way_m=config.two_way_m
        )
        self.records: list[_Record] = []
        self.times: list[int] = []
        self.K: np.ndarray | None = None
        self.state = MAPPING
        self.T_map_odom = np.eye(4)
        self.stats = BackendStats()
        self.loops: list[LoopEvent] = []  # every verified loop, for /slam/loop_closures
        self.last_graph_id: int | None = None  # newest keyframe in the graph
        self.last_loop_id: int | None = None
        self.last_commit_index = -(10**9)
        self.tentative: list[_Tentative] = []
        self.pending: list[int] = []  # keyframes waiting outside the graph (relocalizing)
        self.hypotheses: list[_Hypothesis] = []
        self.reloc_requested_ns = 0
        self.lifted = False
        self._cov_cache: tuple[int, np.ndarray] | None = None
        self.segment_start: int | None = None  # first keyframe of the current odometry chain
        self.K_refined: np.ndarray | None = None  # refine_intrinsics: the latest estimate
        self.ba_rms_px: float | None = None
        self.awaiting_first_keyframe = False  # a saved map is loaded: relocalize from the start

    def load_map(self, places: list[MapPlace]) -> None:
        """Places of a saved map, before any keyframe: fixed in the graph (their frame is the
        map frame), searched like keyframes; the session starts by relocalizing in them."""
        if self.records:
            raise RuntimeError('load_map must come before the first keyframe')
        fixed = np.diag([1e-6] * 3 + [1e-8] * 3)
        for i, place in enumerate(places):
            kf = KeyframeInput(
                place.t_ns, place.T_map_base, fixed, place.T_base_camera, place.view
            )
            rec = _Record(i, kf, 0.0, in_graph=True, from_map=True)
            self.records.append(rec)
            # Sorted before any session stamp whatever the stamps say (a clock reset between
            # sessions): `times` only orders keyframes for the recent-past exclusion.
            self.times.append(-len(places) + i)
            self.graph.add_pose(i, place.T_map_base)
            self.graph.add_prior(i, place.T_map_base, fixed)
            vector = place.vector
            self.index.add(
                vector if vector is not None else self.vocabulary.vector(place.view.descriptors)
            )
        if places:
            self.graph.update()
            self.last_graph_id = len(places) - 1
            self.state = RELOCALIZING
            self.awaiting_first_keyframe = True

    def locate(
        self, view: KeyframeView, T_base_camera: np.ndarray
    ) -> tuple[np.ndarray, int] | None:
        """One keyframe placed in the map without a pose prior: (T_map_base, inliers) of the
        best verified of `candidates` (not `reloc_candidates`: the month benchmark's
        relocalization rates stay comparable across runs), or None. Changes nothing (for
        evaluation and tools)."""
        if self.K is None:
            return None
        kf = KeyframeInput(0, np.eye(4), np.zeros((6, 6)), T_base_camera, view)
        probe = _Record(-1, kf, 0.0)
        best, verified = None, self.stats.verified
        for candidate in self._candidates(
            self.vocabulary.vector(view.descriptors), view, len(self.records)
        ):
            _, hyp = self._verify(probe, candidate)
            if hyp is not None and (best is None or hyp.inliers > best.inliers):
                best = hyp
        self.stats.verified = verified
        return (best.X_query, best.inliers) if best is not None else None

    # -- inputs ----------------------------------------------------------------------------

    def request_relocalization(self, t_ns: int) -> bool:
        """The odometry chain is broken at t_ns (kidnap, put-down, the service); False when
        there is no map to search yet (mapping simply goes on)."""
        if self.last_graph_id is None:
            return False
        if self.state == RELOCALIZING:
            # A later request (the put-down after the lift) restarts the search from there.
            self.pending = [i for i in self.pending if self.records[i].kf.t_ns >= t_ns]
            self.hypotheses = [h for h in self.hypotheses if h.query in self.pending]
        else:
            self.state = RELOCALIZING
            self.pending, self.hypotheses = [], []
        self.tentative = []
        self.reloc_requested_ns = t_ns
        return True

    def set_lifted(self, t_ns: int, lifted: bool) -> None:
        if lifted and not self.lifted:
            self.request_relocalization(t_ns)
        self.lifted = lifted

    def add_keyframe(self, kf: KeyframeInput) -> list[LoopEvent]:
        """Adds a keyframe; returns the loops verified for it (accepted or not)."""
        if self.lifted:
            self.stats.skipped_lifted += 1
            return []
        if self.state == RELOCALIZING and kf.t_ns < self.reloc_requested_ns:
            # Taken while carried (the VO hands keyframes out a second late): its odometry is
            # that of neither side of the break, so it could only disagree with the others.
            self.stats.skipped_before_break += 1
            return []
        if self.awaiting_first_keyframe:
            self.reloc_requested_ns = kf.t_ns  # relocalization time counts from here
            self.awaiting_first_keyframe = False
        path = 0.0
        if self.records and not self.records[-1].from_map:
            prev = self.records[-1]
            step = inverse(prev.kf.T_odom_base) @ kf.T_odom_base
            path = prev.path_m + float(np.linalg.norm(step[:3, 3]))
        rec = _Record(len(self.records), kf, path)
        self.records.append(rec)
        self.times.append(kf.t_ns)
        self.stats.keyframes += 1
        vector = self.vocabulary.vector(kf.view.descriptors)
        if self.K is None:
            self.stats.no_camera_info += 1
        if self.state == RELOCALIZING:
            events = self._relocalize(rec, vector)
        else:
            self._add_to_graph(rec, chained=True)
            if self.config.local_ba:
                self._bundle_adjust(rec)
            self.graph.update()
            events = self._close_loops(rec, vector)
            self._refresh_map_odom()
        self.index.add(vector)
        self.loops += events
        return events

    # -- graph -----------------------------------------------------------------------------

    def _add_to_graph(self, rec: _Record, chained: bool) -> None:
        c = self.config
        self.graph.add_pose(rec.id, self.T_map_odom @ rec.kf.T_odom_base)
        if self.last_graph_id is None:
            cov = np.diag([c.odom_sigma_floor_m**2] * 3 + [c.odom_sigma_floor_rad**2] * 3)
            self.graph.add_prior(rec.id, self.T_map_odom @ rec.kf.T_odom_base, cov)
        elif chained:
            prev = self.records[self.last_graph_id].kf
            T_rel = inverse(prev.T_odom_base) @ rec.kf.T_odom_base
            self.graph.add_odometry(
                self.last_graph_id, rec.id, T_rel, _relative_covariance(prev, rec.kf, c)
            )
        if not chained or self.segment_start is None:
            self.segment_start = rec.id
        rec.in_graph = True
        self.last_graph_id = rec.id
        self._cov_cache = None

    def _bundle_adjust(self, rec: _Record) -> None:
        """Adjusts the newest keyframes of the current chain and ties the new one to the one
        before by the adjusted relative pose."""
        c = self.config
        assert self.segment_start is not None
        if self.K is None or rec.kf.view.ids is None:
            return
        ids = [
            i
            for i in range(max(self.segment_start, rec.id - 4 * c.ba_window), rec.id + 1)
            if self.records[i].in_graph and self.records[i].kf.view.ids is not None
        ][-c.ba_window :]
        if len(ids) < 2:
            return
        window, odometry = [], []
        for i in ids:
            kf = self.records[i].kf
            T = self.graph.pose(i) if i != rec.id else self.T_map_odom @ kf.T_odom_base
            view = kf.view
            window.append(BAKeyframe(i, T @ kf.T_base_camera, view.ids, view.xy, view.points_c))
        for a, b in zip(ids[:-1], ids[1:], strict=True):
            ka, kb = self.records[a].kf, self.records[b].kf
            T_rel = inverse(ka.T_odom_base @ ka.T_base_camera) @ (
                kb.T_odom_base @ kb.T_base_camera
            )
            odometry.append((a, b, T_rel, _relative_covariance(ka, kb, c)))
        result = bundle_adjust(window, self.K, odometry, BAParams(), c.refine_intrinsics)
        if result is None:
            return
        prev, cur = ids[-2], ids[-1]
        T_prev = result.T_map_cam[prev] @ inverse(self.records[prev].kf.T_base_camera)
        T_cur = result.T_map_cam[cur] @ inverse(rec.kf.T_base_camera)
        self.graph.add_odometry(
            prev,
            cur,
            inverse(T_prev) @ T_cur,
            np.diag([c.ba_sigma_m**2] * 3 + [c.ba_sigma_rad**2] * 3),
        )
        self.ba_rms_px = result.rms_px_after
        if c.refine_intrinsics:
            self.K_refined = result.K

    def _refresh_map_odom(self) -> None:
        assert self.last_graph_id is not None
        rec = self.records[self.last_graph_id]
        self.T_map_odom = self.graph.pose(rec.id) @ inverse(rec.kf.T_odom_base)

    def _candidates(
        self, vector: np.ndarray, view: KeyframeView, before: int, count: int | None = None
    ) -> list[int]:
        """The `count` (default `candidates`) keyframes in the graph (ids < before) to verify
        against a view, best first: the most similar place vectors or, when
        `rerank_candidates` is larger, that many re-ranked by how many of their landmarks'
        descriptors match the view's (the matches verification starts from)."""
        c = self.config
        count = c.candidates if count is None else count
        similar = self.index.search(vector, max(count, c.rerank_candidates), before)
        found = [
            i for i, score in similar if score >= c.min_similarity and self.records[i].in_graph
        ]
        if len(found) <= count:
            return found
        views = [self.records[i].kf.view for i in found]
        return [found[j] for j in by_matches(view, views, self.verify_params)[:count]]

    def _verify(
        self, rec: _Record, candidate: int, guided: bool = False
    ) -> tuple[Verification, _Hypothesis | None]:
        """Geometric verification; guided: also search by projection where the graph predicts
        the candidate (only when both keyframes are in the graph)."""
        assert self.K is not None
        cand = self.records[candidate]
        predicted = None
        if guided:
            T_map_cq = self.graph.pose(rec.id) @ rec.kf.T_base_camera
            T_map_cc = self.graph.pose(candidate) @ cand.kf.T_base_camera
            predicted = inverse(T_map_cq) @ T_map_cc
        params = self.loop_verify_params if guided else self.verify_params
        result = verify(rec.kf.view, cand.kf.view, self.K, params, predicted)
        if not result.accepted:
            return result, None
        self.stats.verified += 1
        assert result.T_qc is not None
        Z = cand.kf.T_base_camera @ inverse(result.T_qc) @ inverse(rec.kf.T_base_camera)
        X_query = self.graph.pose(candidate) @ Z
        return result, _Hypothesis(rec.id, candidate, Z, X_query, result.inliers)

    def _event(
        self, h: _Hypothesis, accepted: bool, reason: str = '', relocalization: bool = False
    ) -> LoopEvent:
        t_ns = self.records[h.query].kf.t_ns
        return LoopEvent(
            t_ns, h.query, h.candidate, accepted, reason, h.inliers, relocalization, h.Z
        )

    def _close_loops(self, rec: _Record, vector: np.ndarray) -> list[LoopEvent]:
        c = self.config
        if self.K is None:
            return []
        before = bisect.bisect_left(self.times, rec.kf.t_ns - int(c.exclude_recent_s * 1e9))
        events = []
        X = self.graph.pose(rec.id)
        for candidate in self._candidates(vector, rec.kf.view, before):
            _, hyp = self._verify(rec, candidate, guided=True)
            if hyp is None:
                continue
            moved_m, turned = _disagreement(X, hyp.X_query)
            since = rec.path_m - self.records[candidate].path_m
            if self.last_loop_id is not None:
                since = min(since, rec.path_m - self.records[self.last_loop_id].path_m)
            if (
                moved_m > c.loop_gate_m + c.loop_gate_per_m * since
                or turned > c.loop_gate_rad + c.loop_gate_rad_per_m * since
            ):
                events.append(self._event(hyp, False, f'off the graph by {moved_m:.2f} m'))
                continue
            self.tentative.append(_Tentative(hyp, self.stats.keyframes))
            break
        events += self._commit_loops(rec)
        self.stats.loops_rejected += sum(not e.accepted for e in events)
        return events

    def _commit_loops(self, rec: _Record) -> list[LoopEvent]:
        c = self.config
        now = self.stats.keyframes
        expired = [t for t in self.tentative if now - t.index >= c.loop_window]
        self.tentative = [t for t in self.tentative if now - t.index < c.loop_window]
        events = [self._event(t.hyp, False, 'not confirmed') for t in expired]
        if not self.tentative or self.tentative[-1].hyp.query != rec.id:
            return events
        newest = self.tentative[-1].hyp

        def moved_here(h: _Hypothesis) -> np.ndarray:
            # Where the correction h asks for would put the newest keyframe: loops found a few
            # keyframes apart are compared where the robot is, not about the map origin.
            return h.X_query @ inverse(self.graph.pose(h.query)) @ self.graph.pose(rec.id)

        agree = [
            t
            for t in self.tentative
            if _within(moved_here(t.hyp), newest.X_query, c.loop_agree_m, c.loop_agree_rad)
        ]
        fresh = now - self.last_commit_index <= c.loop_window and _within(
            newest.X_query, self.graph.pose(rec.id), c.loop_agree_m, c.loop_agree_rad
        )
        if len({t.hyp.query for t in agree}) < c.loop_confirmations and not fresh:
            return events
        sigmas = np.r_[[c.loop_sigma_m] * 3, [c.loop_sigma_rad] * 3]
        committed = agree if len(agree) >= c.loop_confirmations else [self.tentative[-1]]
        for t in committed:
            self.graph.add_loop(t.hyp.candidate, t.hyp.query, t.hyp.Z, sigmas)
            events.append(self._event(t.hyp, True))
        self.stats.loops_accepted += len(committed)
        self.tentative = [t for t in self.tentative if t not in committed]
        self.graph.update()
        self.last_loop_id = rec.id
        self.last_commit_index = now
        self._cov_cache = None
        return events

    # -- relocalization --------------------------------------------------------------------

    def _relocalize(self, rec: _Record, vector: np.ndarray) -> list[LoopEvent]:
        c = self.config
        self.pending.append(rec.id)
        if len(self.pending) > c.reloc_max_pending:
            # Lost for long: the oldest waiting keyframes will never join the map.
            dropped = self.pending.pop(0)
            self.records[dropped].kf.view = _EMPTY_VIEW
            self.stats.dropped_pending += 1
        if self.K is None or self.last_graph_id is None:
            return []
        for candidate in self._candidates(
            vector, rec.kf.view, self.pending[0], c.reloc_candidates
        ):
            _, hyp = self._verify(rec, candidate)
            if hyp is not None:
                self.hypotheses.append(hyp)
        window = set(self.pending[-c.reloc_window :])
        self.hypotheses = [h for h in self.hypotheses if h.query in window]
        mine = [h for h in self.hypotheses if h.query == rec.id]
        if not mine:
            return []
        newest = max(mine, key=lambda h: h.inliers)

        def map_odom(h: _Hypothesis) -> np.ndarray:
            return h.X_query @ inverse(self.records[h.query].kf.T_odom_base)

        here = rec.kf.T_odom_base
        agree, disagree = [], []
        for h in self.hypotheses:
            same = _within(
                map_odom(h) @ here, map_odom(newest) @ here, c.reloc_agree_m, c.reloc_agree_rad
            )
            (agree if same else disagree).append(h)
        if disagree or len({h.query for h in agree}) < c.reloc_confirmations:
            return []
        return self._commit_relocalization(rec, map_odom(newest), agree)

    def _commit_relocalization(
        self, rec: _Record, T_map_odom: np.ndarray, support: list[_Hypothesis]
    ) -> list[LoopEvent]:
        c = self.config
        self.T_map_odom = T_map_odom
        for i, rid in enumerate(self.pending):
            self._add_to_graph(self.records[rid], chained=i > 0)
        sigmas = np.r_[[c.loop_sigma_m] * 3, [c.loop_sigma_rad] * 3]
        events = []
        for h in support:
            self.graph.add_loop(h.candidate, h.query, h.Z, sigmas)
            events.append(self._event(h, True, relocalization=True))
        self.graph.update()
        self.stats.loops_accepted += len(events)
        self.stats.relocalizations.append(
            Relocalization(self.reloc_requested_ns, rec.kf.t_ns, len(self.pending))
        )
        self.pending, self.hypotheses = [], []
        self.state = MAPPING
        self.last_loop_id = rec.id
        self.last_commit_index = self.stats.keyframes
        self._refresh_map_odom()
        return events

    # -- outputs ---------------------------------------------------------------------------

    def keyframe_poses(self) -> list[tuple[int, np.ndarray]]:
        """(stamp, T_map_base) of every keyframe in the graph, in time order."""
        poses = self.graph.poses()
        return sorted(
            (self.records[i].kf.t_ns, T) for i, T in poses.items() if not self.records[i].from_map
        )

    def pose_covariance(self, odom_covariance: np.ndarray) -> np.ndarray:
        """Covariance (ROS order) of the map pose now: the newest keyframe's marginal plus what
        the odometry added since (its covariance now, `odom_covariance`, against then); the
        odometry's own before the first keyframe."""
        if self.last_graph_id is None:
            return odom_covariance
        if self._cov_cache is None or self._cov_cache[0] != self.last_graph_id:
            self._cov_cache = (self.last_graph_id, self.graph.covariance(self.last_graph_id))
        then = self.records[self.last_graph_id].kf.odom_covariance
        growth = np.maximum(np.diag(odom_covariance) - np.diag(then), 0.0)
        return self._cov_cache[1] + np.diag(growth)

    def position(self, i: int) -> np.ndarray:
        return self.graph.pose(i)[:3, 3]


def _within(A: np.ndarray, B: np.ndarray, metres: float, radians: float) -> bool:
    moved, turned = _disagreement(A, B)
    return moved <= metres and turned <= radians
