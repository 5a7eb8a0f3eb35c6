"""Frame-to-local-map tracking: the visual odometry core, ROS-free.

Per frame: check the image, extract features, predict the pose (motion prior or constant
velocity), match the local map around its predicted projections, solve PnP RANSAC and refine
robustly (from the landmarks that fitted `confirm_frames` frames, when there are enough: new
ones do not choose the pose), check the result against the prior (a rigid group of matches that
moves otherwise, such as a person walking towards the camera, is dropped), weigh it with the
prior by their information, update the landmark statistics, and decide on a keyframe.
Keyframes add landmarks from depth (stereo or RGB-D) and are handed out `depth_check_frames`
later, when their new landmarks have shown that they do not move: they fitted the pose in
`confirm_frames` frames, and their depth, measured again in each frame, changed as the camera
moved (and was measured again at all: `depth_check_agreements` times); those that have not are
left out. Optionally (`bridge_with_prior`) a frame the local map no longer explains becomes a
keyframe at the prior's pose instead of being lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from astro_slam.transforms import inverse, rotation_deg, yaw_of
from astro_slam.vo.association import back_project
from astro_slam.vo.config import VisualOdometryConfig
from astro_slam.vo.features import FeatureExtractor, Features
from astro_slam.vo.image_quality import ImageQuality, Normaliser, denoise_sigma_px, measure
from astro_slam.vo.local_map import LocalMap, depth_information
from astro_slam.vo.matching import match_projected
from astro_slam.vo.pose import (
    PoseSolution,
    at_pose,
    base_pose_covariance,
    camera_information,
    confirming_prior,
    project,
    solve_pnp,
    with_prior,
)

# Tracking states reported on /vo/status.
TRACKING, INITIALISED, LOST = 'tracking', 'initialised', 'lost'
# A pose known only from the motion prior (a restart, a bridge, a weak pose): 10 cm, 6 degrees.
RESTART_VARIANCE = 1e-2


@dataclass
class Frame:
    """One image (grey, rectified) and a way to get depth for its keypoints.

    `depth_of` is called only when the frame becomes a keyframe, so that stereo pays for the
    right image only then.
    """

    t_ns: int
    gray: np.ndarray
    K: np.ndarray
    depth_of: Callable[[Features, np.ndarray], np.ndarray]  # (features, normalised grey) -> points
    depth_noise: float  # depth sigma over depth squared (1/m): stereo sigma_d / (f B)
    # (pixels, expected depths, normalised grey) -> depths at those pixels, NaN where none
    depth_at: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None
    stereo: bool = False  # depth from the images themselves: smoothing them widens its noise


@dataclass
class Keyframe:
    """A keyframe ready to publish: landmarks in its camera frame and where they were seen."""

    t_ns: int
    T_wc: np.ndarray
    ids: np.ndarray
    points_c: np.ndarray
    xy: np.ndarray
    descriptors: np.ndarray


@dataclass
class TrackResult:
    t_ns: int
    state: str  # tracking, initialised or lost
    reason: str = ''  # why not tracking: too_dark, blank, blurred, few_features, ...
    T_wb: np.ndarray | None = None  # base pose in the VO frame, None when not published
    covariance: np.ndarray | None = None  # (6, 6) ROS order, in the base frame
    quality: ImageQuality | None = None
    stats: dict[str, float] = field(default_factory=dict)
    keyframes: list[Keyframe] = field(default_factory=list)


@dataclass
class _Pending:
    frame_index: int
    t_ns: int
    T_cw: np.ndarray
    ids: np.ndarray
    xy: np.ndarray


def _lap(stats: dict[str, float], name: str, since: float) -> float:
    """Records the milliseconds of one stage; returns the new start."""
    now = time.perf_counter()
    stats[name] = (now - since) * 1e3
    return now


class Tracker:
    """Stateful visual odometry; see the module docstring."""

    def __init__(self, config: VisualOdometryConfig, extractor: FeatureExtractor) -> None:
        self.config = config
        self.extractor = extractor
        self.normaliser = Normaliser(config.normalisation)
        self.smoothing_px = 0.0  # the current frame's denoising (image_quality.denoise_sigma_px)
        self.map = LocalMap(extractor.descriptor_size, extractor.binary)
        self.frame_index = 0
        self.keyframe_index = -1
        self.T_cw: np.ndarray | None = None  # last good camera pose
        self.velocity: np.ndarray | None = None  # last inter-frame motion T_c(k-1)_c(k)
        self.prior_last: np.ndarray | None = None  # prior base pose at the last good frame
        # (T_cw, prior base pose) of the last frame whose pose needed no prior: restarts continue
        # from there, so a weak pose just before a loss does not carry into the new local map.
        self.anchor: tuple[np.ndarray, np.ndarray] | None = None
        self.failures = 0
        self.resets = 0
        self.bridges = 0  # failed frames turned into keyframes at the prior's pose
        self.last_kf: tuple[int, np.ndarray, int] | None = None  # (t_ns, T_cw, inliers)
        self.pending: list[_Pending] = []
        self.bridged = False  # a failure was bridged and no frame has tracked since
        self.checks_depth = False  # the frames come with depth_at and depth_check_frames > 0

    # -- per frame -----------------------------------------------------------------------

    def normalise(self, gray: np.ndarray) -> np.ndarray:
        """An image of the current frame (the left or the right one) as features and stereo
        see it: smoothed as the left image's noise asks, then normalised."""
        return self.normaliser(gray, self.smoothing_px)

    def _depth_noise(self, frame: Frame) -> float:
        """The frame's depth sigma over depth squared. A stereo pair smoothed by s px matches
        with (1 + s) times the disparity noise of a raw one: measured against rendered depth
        (a development script, not kept), 3.5 times daylight's at the demo's night (2 px; robust
        sigma 0.69 against 0.20 px) and 1.7 times in a dim home smoothed by 0.75 px. Assumed
        at daylight's, the depth check dropped a quarter of the night's landmarks as moving."""
        if frame.stereo:
            return frame.depth_noise * (1.0 + self.smoothing_px)
        return frame.depth_noise

    def process(
        self, frame: Frame, T_base_camera: np.ndarray, prior_T_ob: np.ndarray | None
    ) -> TrackResult:
        """Tracks one frame; prior_T_ob is the prior's base pose at the frame time, if any."""
        c = self.config
        self.frame_index += 1
        quality = measure(frame.gray)
        problem = quality.problem(c.min_brightness, c.min_contrast, c.min_sharpness)
        if problem:
            return self._fail(frame, problem, quality)
        clock = time.perf_counter()
        self.smoothing_px = denoise_sigma_px(
            quality.noise, c.denoise_target_noise, c.denoise_max_px
        )
        gray = self.normalise(frame.gray)
        features = self.extractor.extract(gray)
        stats: dict[str, float] = {'features': len(features), 'denoise_px': self.smoothing_px}
        clock = _lap(stats, 'ms_features', clock)
        if len(features) < c.min_inliers:
            return self._fail(frame, 'few_features', quality, stats)
        if self.T_cw is None or self.failures >= c.reinit_after_frames:
            return self._initialise(frame, gray, features, T_base_camera, prior_T_ob, quality)

        T_pred = self._predict(T_base_camera, prior_T_ob)
        solution, matched = self._track(frame, features, T_pred, stats, prior_T_ob is not None)
        clock = _lap(stats, 'ms_match_and_pose', clock)
        has_prior = prior_T_ob is not None and self.prior_last is not None
        if solution is None:
            if has_prior and c.bridge_with_prior and not self.bridged:
                return self._bridge(
                    frame, gray, features, T_pred, prior_T_ob, T_base_camera, quality, stats
                )
            return self._fail(frame, 'few_inliers', quality, stats)
        if has_prior and not self._agrees_with_prior(solution, T_pred, T_base_camera):
            solution = self._static_alternative(
                frame, features, matched, solution, T_pred, T_base_camera, stats
            )
        verdict = self._verdict(solution, T_pred, T_base_camera, has_prior)
        if verdict:
            return self._fail(frame, verdict, quality, stats)
        # Fewer than min_inliers stand only because they agree with the prior: they confirm its
        # planar motion and heading, which the pose then takes as they are (height and tilt,
        # which the prior leaves loose, are not forced to it), and it is published with a
        # restart's covariance, so that fusion does not take the prior's motion back as the
        # images'. Weighed instead by their own information, a dozen inliers on a person or on
        # wrong depths in dim light pulled the pose a few cm per frame (home 5 at light 0.1:
        # RPE 0.74 % with the block matcher, 3.5 % with semi_global; docs/BENCHMARKS.md).
        weak = int(solution.inliers.sum()) < c.min_inliers
        if has_prior and self._agrees_with_prior(solution, T_pred, T_base_camera):
            if weak:
                solution = confirming_prior(solution, T_pred, self._prior_sigmas(), T_base_camera)
            else:
                solution = with_prior(solution, T_pred, self._prior_information(T_base_camera))

        map_index, kp_index = matched
        self.map.record(map_index, solution.inliers, self.frame_index)
        T_wc = inverse(solution.T_cw)
        inlier_kp = kp_index[solution.inliers]
        self.map.add_rays(
            map_index[solution.inliers],
            T_wc[:3, 3],
            features.xy[inlier_kp],
            T_wc,
            frame.K,
            c.pixel_sigma_px * self.extractor.scale_factor ** features.octave[inlier_kp],
        )
        inliers = int(solution.inliers.sum())
        stats.update(inliers=inliers, rms_px=solution.rms_px)
        self.velocity = self.T_cw @ inverse(solution.T_cw)
        self.T_cw = solution.T_cw
        self.prior_last = prior_T_ob
        self.failures = 0
        self.bridged = False
        if prior_T_ob is not None and inliers >= c.min_inliers:
            self.anchor = (self.T_cw, prior_T_ob)

        clock = _lap(stats, 'ms_map_update', clock)
        if self._check_depth(frame, gray, features, map_index[solution.inliers], inlier_kp, stats):
            clock = _lap(stats, 'ms_depth_check', clock)
        if self._needs_keyframe(frame.t_ns, inliers):
            stats['keyframe'] = 1
            self._add_keyframe(
                frame, gray, features, map_index[solution.inliers], kp_index[solution.inliers]
            )
            clock = _lap(stats, 'ms_keyframe', clock)
        self.map.prune(self.keyframe_index, c.window_keyframes, self.frame_index, c.confirm_frames)
        _lap(stats, 'ms_prune', clock)
        stats.update(self._map_stats())
        T_wb = inverse(self.T_cw) @ inverse(T_base_camera)
        cov = base_pose_covariance(solution.information, T_base_camera) * c.covariance_scale**2
        if weak:
            cov = np.eye(6) * RESTART_VARIANCE
        return TrackResult(
            frame.t_ns, TRACKING, '', T_wb, cov, quality, stats, self._ready_keyframes()
        )

    def _predict(self, T_bc: np.ndarray, prior_T_ob: np.ndarray | None) -> np.ndarray:
        """Predicted T_cw: the prior's motion since the last good frame, else constant velocity."""
        assert self.T_cw is not None
        if prior_T_ob is not None and self.prior_last is not None:
            delta_b = inverse(self.prior_last) @ prior_T_ob
            delta_c = inverse(T_bc) @ delta_b @ T_bc  # T_c(last)_c(now)
            return inverse(delta_c) @ self.T_cw
        if self.velocity is not None and self.failures == 0:
            return inverse(self.velocity) @ self.T_cw
        return self.T_cw

    def _track(
        self, frame: Frame, features: Features, T_pred: np.ndarray, stats: dict, prior: bool
    ):
        c = self.config
        enough = c.min_inliers_with_prior if prior else c.min_inliers
        m = self.map
        uv, z = project(T_pred, m.position, frame.K)
        h, w = frame.gray.shape[:2]
        visible = (z > 0.1) & (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
        candidates = np.flatnonzero(visible)
        radius = c.match_radius_px if self.failures == 0 else c.match_radius_lost_px
        # A weak solution in the narrow radius may be the prior missing a sudden tilt (a door
        # threshold); the wide radius gets its chance before a weak pose is accepted.
        best, best_matched = None, (np.zeros(0, int), np.zeros(0, int))
        for r in dict.fromkeys((radius, c.match_radius_lost_px)):
            qi, ki = match_projected(
                uv[candidates],
                m.descriptors[candidates],
                features.xy,
                features.descriptors,
                r,
                c.max_descriptor_distance,
            )
            map_index = candidates[qi]
            stats.setdefault('matches', len(map_index))
            sigma = c.pixel_sigma_px * self.extractor.scale_factor ** features.octave[ki]
            solution = self._solve(map_index, features.xy[ki], sigma, frame.K, T_pred)
            if solution is not None and (
                best is None or solution.inliers.sum() > best.inliers.sum()
            ):
                best, best_matched = solution, (map_index, ki)
                stats['matches'] = len(map_index)
            if best is not None and best.inliers.sum() >= c.min_inliers:
                break
        if best is None or best.inliers.sum() < enough:
            return None, best_matched
        return best, best_matched

    def _solve(
        self, map_index: np.ndarray, xy: np.ndarray, sigma: np.ndarray, K: np.ndarray, T_pred
    ) -> PoseSolution | None:
        """PnP on the matched landmarks that fitted confirm_frames frames, when there are
        min_inliers of those; the newer ones join the refinement where they fit its pose, but
        do not choose it. Else PnP on all matches.

        A keyframe taken while a person fills half the view gives the person more new landmarks
        than the room has old ones. For a frame or two their motion still fits any pose within
        the RANSAC threshold, and on all matches the pose followed them: in home 1 of
        `vo_people` it followed a person walking towards the robot by 3-6 cm, until their depth
        agreed with the pose and 21 of their landmarks were published (docs/BENCHMARKS.md).
        """
        c = self.config
        m = self.map
        settled = m.confirmed(c.confirm_frames)[map_index]
        if settled.sum() >= c.min_inliers and not settled.all():
            solution = solve_pnp(
                m.position[map_index[settled]], xy[settled], sigma[settled], K, T_pred, c.ransac_px
            )
            if solution is not None:
                solution = at_pose(solution, m.position[map_index], xy, sigma, K, settled)
                if solution.inliers.sum() >= c.min_inliers:
                    return solution
        return solve_pnp(m.position[map_index], xy, sigma, K, T_pred, c.ransac_px)

    def _verdict(
        self, solution: PoseSolution, T_pred: np.ndarray, T_bc: np.ndarray, has_prior: bool
    ) -> str:
        """'' to accept the pose, else why not.

        Many inliers overrule the prior (the wheels may slip). With fewer, the pose must agree
        with the prior, and then fewer inliers suffice (a person filling most of the view
        leaves few).
        """
        c = self.config
        inliers = int(solution.inliers.sum())
        if inliers >= c.strong_inliers:
            return ''
        if not has_prior:
            return '' if inliers >= c.min_inliers else 'few_inliers'
        return '' if self._agrees_with_prior(solution, T_pred, T_bc) else 'disagrees_with_odometry'

    def _agrees_with_prior(
        self, solution: PoseSolution, T_pred: np.ndarray, T_bc: np.ndarray
    ) -> bool:
        """Whether the pose agrees with the prior in what the wheels measure: planar translation
        and heading (a threshold bump tilts the camera, which the wheels cannot see)."""
        c = self.config
        assert self.T_cw is not None
        T_cb = inverse(T_bc)
        predicted, solved = inverse(T_pred) @ T_cb, inverse(solution.T_cw) @ T_cb
        diff = inverse(predicted) @ solved
        motion = np.linalg.norm((inverse(inverse(self.T_cw) @ T_cb) @ predicted)[:2, 3])
        gate_m = c.prior_gate_m + 0.2 * motion
        heading = abs(np.degrees(yaw_of(diff)))
        return bool(np.linalg.norm(diff[:2, 3]) <= gate_m and heading <= c.prior_gate_deg)

    def _prior_sigmas(self) -> np.ndarray:
        """Base-frame sigmas of the prior per frame (x, y, z, roll, pitch, yaw): planar motion
        and heading to within prior_sigma_m and prior_sigma_deg; height, roll and pitch
        loosely (a threshold bump tilts the robot, which the wheels cannot see)."""
        c = self.config
        tilt = np.radians(3.0)
        return np.array(
            [c.prior_sigma_m, c.prior_sigma_m, 0.05, tilt, tilt, np.radians(c.prior_sigma_deg)]
        )

    def _prior_information(self, T_bc: np.ndarray) -> np.ndarray:
        """Information of the predicted camera pose (see _prior_sigmas)."""
        return camera_information(self._prior_sigmas(), T_bc)

    def _static_alternative(
        self,
        frame: Frame,
        features: Features,
        matched: tuple[np.ndarray, np.ndarray],
        solution: PoseSolution,
        T_pred: np.ndarray,
        T_bc: np.ndarray,
        stats: dict,
    ) -> PoseSolution:
        """The pose of the matches left out of a solution the prior disagrees with, when those
        move as the prior says.

        A person walking towards the camera and filling the view moves rigidly: RANSAC then
        finds their motion, with more inliers than the room behind them has. When the rest of
        the matches agree with the wheels, the room is the static scene; the landmarks that
        moved with the person are dropped at once, however often they fitted before.
        """
        c = self.config
        map_index, kp_index = matched
        rest = np.flatnonzero(~solution.inliers)
        if len(rest) < c.min_inliers_with_prior:
            return solution
        ki = kp_index[rest]
        sigma = c.pixel_sigma_px * self.extractor.scale_factor ** features.octave[ki]
        other = solve_pnp(
            self.map.position[map_index[rest]],
            features.xy[ki],
            sigma,
            frame.K,
            T_pred,
            c.ransac_px,
        )
        if (
            other is None
            or other.inliers.sum() < c.min_inliers_with_prior
            or not self._agrees_with_prior(other, T_pred, T_bc)
        ):
            return solution
        self.map.mark_moving(map_index[solution.inliers])
        stats['moving_rejected'] = int(solution.inliers.sum())
        inliers = np.zeros(len(map_index), bool)
        inliers[rest[other.inliers]] = True
        return PoseSolution(other.T_cw, inliers, other.information, other.rms_px)

    def _check_depth(
        self,
        frame: Frame,
        gray: np.ndarray,
        features: Features,
        index: np.ndarray,
        kp: np.ndarray,
        stats: dict,
    ) -> bool:
        """Measures again the depth of young landmarks the pose fitted, and drops those whose
        depth changed otherwise than the camera moved; whether there were any to measure.

        A person walking along the optical axis (away down a hallway ahead of the robot) moves
        their keypoints in the image almost as a static point farther away would: the pose
        fits them, and only their depth, changing faster than the robot moves, gives them away.
        Each check compares with the landmark's first check, not with its keyframe depth: the
        same matcher on nearly the same view shares its biases, so the test can be tight.
        """
        c = self.config
        self.checks_depth = c.depth_check_frames > 0 and frame.depth_at is not None
        if not self.checks_depth:
            return False
        age = self.frame_index - self.map.born_frame[index]
        young = (age > 0) & (age <= c.depth_check_frames)
        if not young.any():
            return False
        index, kp = index[young], kp[young]
        assert self.T_cw is not None
        points_c = self.map.position[index] @ self.T_cw[:3, :3].T + self.T_cw[:3, 3]
        z = frame.depth_at(features.xy[kp], points_c[:, 2], gray)
        measured = np.isfinite(z)
        reference = self.map.reference[index]
        first = measured & np.isnan(reference[:, 0])
        again = measured & ~first
        T_wc = inverse(self.T_cw)
        seen_c = back_project(features.xy[kp[first]], z[first], frame.K)
        self.map.reference[index[first]] = seen_c @ T_wc[:3, :3].T + T_wc[:3, 3]
        expected = reference[again] @ self.T_cw[2, :3] + self.T_cw[2, 3]
        # Two measurements of the same noise: their difference has sqrt(2) times its sigma.
        sigma = np.sqrt(2.0) * self._depth_noise(frame) * expected**2
        moved = np.abs(z[again] - expected) > c.depth_check_sigma * sigma
        self.map.mark_moving(index[again][moved])
        self.map.depth_agreements[index[again][~moved]] += 1
        stats['depth_checked'] = int(again.sum())
        stats['depth_moved'] = int(moved.sum())
        return True

    def _fail(
        self, frame: Frame, reason: str, quality: ImageQuality, stats: dict | None = None
    ) -> TrackResult:
        """No pose this frame; after reinit_after_frames usable-but-failed frames, restart.

        Unusable images (dark, blank, blurred) also count towards the restart: when images
        come back, the old local map may not match the new light or the place the robot moved to.
        """
        self.failures += 1
        return TrackResult(frame.t_ns, LOST, reason, quality=quality, stats=stats or {})

    # -- initialisation and keyframes ------------------------------------------------------

    def _initialise(
        self,
        frame: Frame,
        gray: np.ndarray,
        features: Features,
        T_bc: np.ndarray,
        prior_T_ob: np.ndarray | None,
        quality: ImageQuality,
    ) -> TrackResult:
        """Starts (or restarts) tracking with a fresh local map.

        A restart continues from the last pose that stood without the prior (or, lacking a
        prior, the last pose), moved by the prior's motion since, so the VO frame stays put as
        well as the prior allows; `resets` tells consumers it happened.
        """
        c = self.config
        points = frame.depth_of(features, gray)
        valid = np.isfinite(points[:, 2])
        stats = {
            'features': len(features),
            'depth_points': int(valid.sum()),
            'denoise_px': self.smoothing_px,
        }
        if valid.sum() < c.min_init_points:
            return self._fail(frame, 'few_depth_points', quality, stats)
        if self.T_cw is None:
            T_cw = inverse(T_bc)  # the VO frame is the base frame at the first image
        else:
            if self.anchor is not None and prior_T_ob is not None:
                self.T_cw, self.prior_last = self.anchor
            T_cw = self._predict(T_bc, prior_T_ob)
            self.resets += 1
        self.map = LocalMap(self.extractor.descriptor_size, self.extractor.binary)
        self.pending.clear()
        self.T_cw, self.velocity, self.prior_last, self.failures = T_cw, None, prior_T_ob, 0
        self.last_kf = None
        self._add_keyframe(frame, gray, features, np.zeros(0, int), np.zeros(0, int), points)
        stats.update(self._map_stats())
        T_wb = inverse(T_cw) @ inverse(T_bc)
        # The first pose is the origin by definition; a restart knows its pose only from the prior.
        cov = np.eye(6) * (1e-6 if self.resets == 0 else RESTART_VARIANCE)
        return TrackResult(frame.t_ns, INITIALISED, '', T_wb, cov, quality, stats)

    def _bridge(
        self,
        frame: Frame,
        gray: np.ndarray,
        features: Features,
        T_pred: np.ndarray,
        prior_T_ob: np.ndarray,
        T_bc: np.ndarray,
        quality: ImageQuality,
        stats: dict,
    ) -> TrackResult:
        """A frame the local map no longer explains (the robot turned into an unmapped view, a
        person stepped in front) becomes a keyframe at the pose the motion prior predicts, so the
        next frames track its new landmarks as well as the old ones.

        Once per failure streak: a bridged frame must be followed by a tracked one before the
        next bridge, so the VO never publishes the prior's motion frame after frame as its own.
        Its covariance is that of a restart, which it is, without dropping the local map.
        """
        points = frame.depth_of(features, gray)
        stats['depth_points'] = int(np.isfinite(points[:, 2]).sum())
        if stats['depth_points'] < self.config.min_init_points:
            return self._fail(frame, 'few_inliers', quality, stats)
        self.T_cw, self.velocity, self.prior_last = T_pred, None, prior_T_ob
        self.failures, self.bridged = 0, True
        self.bridges += 1
        self._add_keyframe(frame, gray, features, np.zeros(0, int), np.zeros(0, int), points)
        stats.update(self._map_stats())
        T_wb = inverse(T_pred) @ inverse(T_bc)
        return TrackResult(
            frame.t_ns,
            INITIALISED,
            'bridged_by_odometry',
            T_wb,
            np.eye(6) * RESTART_VARIANCE,
            quality,
            stats,
        )

    def _needs_keyframe(self, t_ns: int, inliers: int) -> bool:
        """Whether this frame becomes a keyframe: its inliers fell below a share of the last
        keyframe's, or the camera moved or turned far enough, or time passed. While the pose
        has fewer than keyframe_min_inliers, a third of that motion suffices: the local map
        is thin (a turn into a view it does not cover), and new landmarks are due. Motion, not
        the inlier count alone: a person walking up to the camera also thins the map, and a
        keyframe in every frame would make landmarks on them faster than the checks drop them.
        """
        c = self.config
        if self.last_kf is None:
            return True
        kf_t, kf_T_cw, kf_inliers = self.last_kf
        assert self.T_cw is not None
        motion = self.T_cw @ inverse(kf_T_cw)
        share = 1 / 3 if inliers < c.keyframe_min_inliers else 1.0
        return (
            inliers < c.keyframe_min_tracked_ratio * kf_inliers
            or np.linalg.norm(inverse(motion)[:3, 3]) > share * c.keyframe_max_translation_m
            or rotation_deg(motion) > share * c.keyframe_max_rotation_deg
            or (t_ns - kf_t) * 1e-9 > c.keyframe_max_interval_s
        )

    def _add_keyframe(
        self,
        frame: Frame,
        gray: np.ndarray,
        features: Features,
        tracked_map: np.ndarray,
        tracked_kp: np.ndarray,
        points_c: np.ndarray | None = None,
    ) -> None:
        """New landmarks from the keypoints with depth that no landmark was matched to; tracked
        landmarks with a new depth measurement are refined."""
        assert self.T_cw is not None
        if points_c is None:
            points_c = frame.depth_of(features, gray)
        self.keyframe_index += 1
        T_wc = inverse(self.T_cw)
        has_depth = np.isfinite(points_c[:, 2])
        points_w = points_c @ T_wc[:3, :3].T + T_wc[:3, 3]

        information = np.zeros((len(points_c), 3, 3))
        information[has_depth] = depth_information(
            points_c[has_depth],
            T_wc[:3, :3],
            self._depth_noise(frame) * points_c[has_depth, 2] ** 2,
            self.config.pixel_sigma_px,
            frame.K[0, 0],
        )
        fuse = has_depth[tracked_kp]
        self.map.fuse(
            tracked_map[fuse],
            points_w[tracked_kp[fuse]],
            information[tracked_kp[fuse]],
            features.descriptors[tracked_kp[fuse]],
            self.keyframe_index,
        )
        new = has_depth.copy()
        new[tracked_kp] = False
        new_kp = np.flatnonzero(new)
        new_ids = self.map.add(
            points_w[new_kp],
            information[new_kp],
            features.descriptors[new_kp],
            self.keyframe_index,
            self.frame_index,
        )
        ids = np.concatenate([self.map.ids[tracked_map], new_ids])
        xy = np.vstack([features.xy[tracked_kp], features.xy[new_kp]])
        self.pending.append(_Pending(self.frame_index, frame.t_ns, self.T_cw.copy(), ids, xy))
        self.last_kf = (frame.t_ns, self.T_cw.copy(), max(len(tracked_kp), 1))

    def flush(self) -> list[Keyframe]:
        """The keyframes still waiting for their checks, at the end of the images (a bag's
        last second), with only the landmarks that finished them: those born in the last
        depth_check_frames frames are left out, or a person walking along the optical axis
        would reach the map through the last keyframes (home 1 of `vo_people`: 3 % of the
        keyframe landmarks on the person became 7 %)."""
        return self._ready_keyframes(at_end=True)

    def _ready_keyframes(self, at_end: bool = False) -> list[Keyframe]:
        """Keyframes whose new landmarks had confirm_frames (and depth_check_frames) frames to
        prove they are static; at_end: all of them, with the landmarks that did. A landmark
        goes out once it fitted the pose in confirm_frames frames and its depth, measured
        again, agreed depth_check_agreements times: one that was never measured again (its
        pixel lost in the right image, or on a person whose next measurements failed) has not
        shown that it does not move."""
        c = self.config
        delay = max(c.confirm_frames, c.depth_check_frames)
        ready = [p for p in self.pending if at_end or self.frame_index - p.frame_index >= delay]
        self.pending = [p for p in self.pending if p not in ready]
        out = []
        confirmed = self.map.confirmed(c.confirm_frames)
        if at_end:
            confirmed &= self.frame_index - self.map.born_frame >= delay
        if self.checks_depth:
            confirmed &= self.map.depth_agreements >= c.depth_check_agreements
        for p in ready:
            index = self.map.index_of(p.ids)
            keep = index >= 0
            keep[keep] = confirmed[index[keep]]
            index = index[keep]
            points_w = self.map.position[index]
            points_c = points_w @ p.T_cw[:3, :3].T + p.T_cw[:3, 3]
            out.append(
                Keyframe(
                    p.t_ns,
                    inverse(p.T_cw),
                    self.map.ids[index],
                    points_c,
                    p.xy[keep],
                    self.map.descriptors[index],
                )
            )
        return out

    def _map_stats(self) -> dict[str, float]:
        return {
            'landmarks': len(self.map),
            'keyframes': self.keyframe_index + 1,
            'resets': self.resets,
            'bridges': self.bridges,
            'moving_rejected': self.map.removed_moving,
        }
