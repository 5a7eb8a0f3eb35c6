"""Visual odometry building blocks on synthetic data: matching, PnP, landmark refinement and
the moving-landmark statistics, stereo depth, and our trajectory metrics against evo."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from astro_slam.eval.trajectory import evaluate, umeyama
from astro_slam.transforms import inverse, make_transform
from astro_slam.vo.association import StereoDepth, row_disparity
from astro_slam.vo.config import VisualOdometryConfig
from astro_slam.vo.features import Features, make_extractor
from astro_slam.vo.image_quality import denoise_sigma_px, noise_sigma
from astro_slam.vo.local_map import LocalMap, depth_information
from astro_slam.vo.matching import best_pairs, match_projected
from astro_slam.vo.pose import (
    camera_information,
    confirming_prior,
    project,
    solve_pnp,
    with_prior,
)
from astro_slam.vo.tracker import Frame, Tracker, _Pending

K = np.array([[460.0, 0, 319.5], [0, 460.0, 239.5], [0, 0, 1]])


def _scene(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.column_stack(
        [rng.uniform(-2, 2, n), rng.uniform(-1.5, 1.5, n), rng.uniform(1, 5, n)]
    )


def test_best_pairs_is_one_to_one_and_applies_the_ratio_test():
    query = np.array([0, 0, 1, 1, 2])
    train = np.array([5, 6, 5, 7, 6])
    dist = np.array([10.0, 30.0, 12.0, 13.0, 20.0])
    q, t, _ = best_pairs(query, train, dist, max_distance=25, ratio=0.9)
    # query 1: 12 vs 13 fails the ratio test; query 0 takes 5; query 2 takes 6.
    assert dict(zip(q.tolist(), t.tolist(), strict=True)) == {0: 5, 2: 6}
    # Candidates that all fail give no pairs (this once raised).
    q, t, d = best_pairs(query, train, dist, max_distance=5, ratio=0.9)
    assert len(q) == len(t) == len(d) == 0


def test_projected_matching_finds_descriptors_near_their_prediction():
    rng = np.random.default_rng(0)
    desc = rng.integers(0, 256, (200, 32), dtype=np.uint8)
    xy = rng.uniform(0, 600, (200, 2))
    predicted = xy + rng.normal(0, 3, xy.shape)
    mi, ki = match_projected(predicted, desc, xy, desc, radius=15, max_distance=40)
    assert len(mi) > 190 and np.all(mi == ki)


def test_pnp_recovers_the_pose_through_outliers_and_covariance_shrinks_with_points():
    rng = np.random.default_rng(1)
    T_true = make_transform(
        Rotation.from_rotvec([0.02, -0.1, 0.03]).as_matrix(), [0.1, 0.02, -0.2]
    )
    sizes = {}
    for n in (60, 400):
        points = _scene(rng, n)
        uv, _ = project(T_true, points, K)
        uv += rng.normal(0, 0.5, uv.shape)
        outliers = rng.random(n) < 0.3
        uv[outliers] += rng.uniform(-80, 80, (outliers.sum(), 2))
        solution = solve_pnp(points, uv, np.full(n, 0.5), K, np.eye(4), ransac_px=3.0)
        assert solution is not None
        error = inverse(T_true) @ solution.T_cw
        assert np.linalg.norm(error[:3, 3]) < 0.01
        assert np.mean(solution.inliers[outliers]) < 0.05
        assert np.mean(solution.inliers[~outliers]) > 0.9
        sizes[n] = np.trace(np.linalg.inv(solution.information)[:3, :3])
    assert sizes[400] < sizes[60] / 3


def test_rays_from_a_moving_camera_refine_stereo_depth():
    rng = np.random.default_rng(2)
    truth = _scene(rng, 300) + np.array([0, 0, 1.0])
    depth_noise = 0.02  # sigma_z = 0.02 z^2: 18 cm at 3 m
    z = truth[:, 2]
    measured = truth.copy()
    measured[:, :] *= (1 + rng.normal(0, depth_noise * z))[:, None]  # error along the ray
    lm = LocalMap(32, True)
    info = depth_information(measured, np.eye(3), depth_noise * z**2, 0.5, K[0, 0])
    lm.add(measured, info, np.zeros((300, 32), np.uint8), 0, 0)
    before = np.linalg.norm(lm.position - truth, axis=1)
    for x in np.linspace(-0.4, 0.4, 9):  # the camera drives sideways
        T_wc = make_transform(t=[x, 0, 0])
        uv, _ = project(inverse(T_wc), truth, K)
        uv += rng.normal(0, 0.5, uv.shape)
        lm.add_rays(np.arange(300), T_wc[:3, 3], uv, T_wc, K, np.full(300, 0.5))
    after = np.linalg.norm(lm.position - truth, axis=1)
    assert np.median(after) < 0.3 * np.median(before)


def test_landmarks_that_keep_failing_the_pose_are_dropped_and_static_ones_kept():
    lm = LocalMap(32, True)
    ids = lm.add(
        np.ones((10, 3)), np.tile(np.eye(3), (10, 1, 1)), np.zeros((10, 32), np.uint8), 0, 0
    )
    for frame in (1, 2, 3):
        index = lm.index_of(ids)
        seen = index >= 0
        lm.record(index[seen], ids[seen] < 7, frame)  # ids 7-9 sit on a walking person
        lm.prune(0, 8, frame, confirm_frames=2)
    assert set(lm.ids.tolist()) == set(ids[:7].tolist())
    assert lm.removed_moving == 3 and lm.confirmed(2).all()


def test_depth_check_drops_landmarks_walking_away_and_keeps_static_ones():
    """The camera drives forward 1 cm per frame; 100 landmarks 3 m ahead are static and 20,
    on a person walking away, move 3 cm per frame farther. Depth is measured with the stereo
    noise the check assumes (0.25 px of disparity at f B = 36.8); default parameters."""
    rng = np.random.default_rng(5)
    config = VisualOdometryConfig()
    tracker = Tracker(config, make_extractor('orb', 100))
    n = 120
    points = np.column_stack([rng.uniform(-1, 1, n), rng.uniform(-0.5, 0.5, n), np.full(n, 3.0)])
    noise = 0.25 / 36.8
    info = depth_information(points, np.eye(3), noise * points[:, 2] ** 2, 1.0, K[0, 0])
    tracker.map.add(points, info, np.zeros((n, 32), np.uint8), 0, 0)
    walker = np.arange(n) >= 100
    kept = []
    for frame in range(1, config.depth_check_frames + 1):
        tracker.frame_index = frame
        tracker.T_cw = inverse(make_transform(t=[0, 0, 0.01 * frame]))
        truth_c = tracker.map.position @ tracker.T_cw[:3, :3].T + tracker.T_cw[:3, 3]
        truth_c[walker[tracker.map.ids], 2] += 0.03 * frame

        def depth_at(xy, expected, gray, z=truth_c[:, 2]):
            return z / (1 - rng.normal(0, 0.25, len(z)) * z / 36.8)

        image = Frame(frame, np.zeros((480, 640), np.uint8), K, None, noise, depth_at)
        uv, _ = project(tracker.T_cw, tracker.map.position, K)
        features = Features(uv, np.zeros(len(uv), int), np.zeros((len(uv), 32), np.uint8))
        index = np.arange(len(tracker.map))
        tracker._check_depth(image, image.gray, features, index, index, {})
        tracker.map.prune(0, 8, frame, confirm_frames=0)
        kept.append(tracker.map.ids)
    assert len(kept[0]) == n  # the first check only takes the reference
    assert not walker[kept[-1]].any()  # 42 cm away from it at the last check
    assert (~walker[kept[-1]]).sum() >= 90  # each check has a false alarm rate, a few in all


def test_stereo_depth_is_sub_pixel_on_a_textured_plane():
    rng = np.random.default_rng(3)
    texture = rng.integers(0, 256, (480, 700), dtype=np.uint8)
    import cv2

    texture = cv2.GaussianBlur(texture, (5, 5), 1.0)
    disparity = 18.4  # a plane at 2 m with f B = 36.8
    left = texture[:, 40:680].copy()
    shift = np.float32([[1, 0, -disparity], [0, 1, 0]])
    right = cv2.warpAffine(texture, shift, (700, 480), flags=cv2.INTER_CUBIC)[:, 40:680]
    xy = np.column_stack([rng.uniform(150, 600, 300), rng.uniform(20, 460, 300)]).astype(
        np.float32
    )
    features = Features(xy, np.zeros(300, int), np.zeros((300, 32), np.uint8))
    points = StereoDepth(36.8, 0.4, 6.0)(left, right, features, K)
    z = points[:, 2]
    assert np.isfinite(z).mean() > 0.8
    assert np.nanmedian(np.abs(z - 2.0)) < 0.01  # 0.5 %: a tenth of a pixel of disparity


def test_stereo_depth_at_given_pixels_finds_the_plane_from_a_wrong_guess():
    """The per-frame depth check guesses from the landmark; a person who walked 30 cm on
    must come back at their new depth, not at the guess."""
    import cv2

    rng = np.random.default_rng(4)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (480, 700), dtype=np.uint8), (5, 5), 1.0)
    shift = np.float32([[1, 0, -18.4], [0, 1, 0]])  # a plane at 2 m with f B = 36.8
    left = texture[:, 40:680].copy()
    right = cv2.warpAffine(texture, shift, (700, 480), flags=cv2.INTER_CUBIC)[:, 40:680]
    xy = np.column_stack([rng.uniform(150, 600, 200), rng.uniform(20, 460, 200)])
    stereo = StereoDepth(36.8, 0.4, 6.0)
    for guess in (1.75, 2.0, 2.3):
        z = stereo.at(left, right, xy, np.full(200, guess))
        assert np.isfinite(z).mean() > 0.9
        assert np.nanmedian(np.abs(z - 2.0)) < 0.01
    # Where the right image holds something else, there is no depth rather than a wrong one.
    z = stereo.at(left, rng.integers(0, 256, right.shape, dtype=np.uint8), xy, np.full(200, 2.0))
    assert np.isfinite(z).mean() < 0.2


def test_semi_global_stereo_locks_to_sixteenths_but_averages_out():
    """SGBM's own sub-pixel fit: off by up to a third of a pixel at some fractions of a pixel,
    right on average over them."""
    import cv2

    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (480, 700), dtype=np.uint8), (5, 5), 1.0)
    xy = np.column_stack([rng.uniform(150, 600, 300), rng.uniform(20, 460, 300)])
    features = Features(xy.astype(np.float32), np.zeros(300, int), np.zeros((300, 32), np.uint8))
    stereo = StereoDepth(36.8, 0.4, 6.0, matcher='semi_global')
    errors = []
    for disparity in np.arange(18.0, 19.0, 0.1):
        shift = np.float32([[1, 0, -disparity], [0, 1, 0]])
        right = cv2.warpAffine(texture, shift, (700, 480), flags=cv2.INTER_CUBIC)[:, 40:680]
        z = stereo(texture[:, 40:680].copy(), right, features, K)[:, 2]
        assert np.isfinite(z).mean() > 0.8
        errors.append(np.nanmedian(36.8 / z) - disparity)
    assert np.max(np.abs(errors)) < 0.4
    assert abs(np.mean(errors)) < 0.1


def _board_in_front_of_a_wall(rng, d_wall: float, d_board: float, x0: int, x1: int):
    """A rectified pair: a textured wall, and a textured board nearer the camera covering
    columns x0..x1 of the left image."""
    import cv2

    wall, board = (
        cv2.GaussianBlur(rng.integers(0, 256, (480, 760), dtype=np.uint8), (5, 5), 1.0)
        for _ in range(2)
    )
    columns = np.arange(640, dtype=np.float32)
    rows = np.repeat(np.arange(480, dtype=np.float32)[:, None], 640, axis=1)

    def view(right: float) -> np.ndarray:
        image = cv2.remap(
            wall.astype(np.float32),
            np.repeat((columns + 60 + right * d_wall)[None], 480, axis=0),
            rows,
            cv2.INTER_CUBIC,
        )
        near = cv2.remap(
            board.astype(np.float32),
            np.repeat((columns + 60 + right * d_board)[None], 480, axis=0),
            rows,
            cv2.INTER_CUBIC,
        )
        on_board = (columns >= x0 - right * d_board) & (columns < x1 - right * d_board)
        image[:, on_board] = near[:, on_board]
        return np.clip(image, 0, 255).astype(np.uint8)

    return view(0.0), view(1.0)


@pytest.mark.parametrize('seed', [0, 1])
def test_stereo_does_not_lean_towards_a_nearer_surface(seed):
    """Wall keypoints 2-5 px beside a board 2.5 m nearer: Lucas-Kanade's 11x11 box takes in
    the board and reads the wall nearer than it is (foreground fattening, which made the VO
    measure distances short); the Gaussian window along the row and the semi-global matcher
    do not."""
    rng = np.random.default_rng(seed)
    d_wall, d_board, x1 = 9.2, 24.5, 420  # 4 m and 1.5 m with f B = 36.8
    left, right = _board_in_front_of_a_wall(rng, d_wall, d_board, 300, x1)
    xy = np.column_stack([rng.uniform(x1 + 2, x1 + 5, 100), rng.uniform(40, 440, 100)])
    features = Features(xy.astype(np.float32), np.zeros(100, int), np.zeros((100, 32), np.uint8))
    error = {}
    for name, matcher, window in (
        ('box', 'block_matching', 0.0),
        ('gaussian', 'block_matching', 3.0),
        ('semi_global', 'semi_global', 3.0),
    ):
        stereo = StereoDepth(36.8, 0.4, 6.0, matcher=matcher, window_sigma_px=window)
        z = stereo(left, right, features, K)[:, 2]
        assert np.isfinite(z).mean() > 0.5
        error[name] = np.nanmedian(36.8 / z - d_wall)
    assert error['box'] > 0.1
    assert abs(error['gaussian']) < 0.05
    assert error['semi_global'] < 0.05


def test_row_disparity_is_sub_pixel_at_every_fraction_of_a_pixel():
    """Refined from guesses 0.4 px off, at fractions 0.0-0.9 of a pixel: no locking towards
    whole pixels. The right image is shifted exactly, by its Fourier phase (warpAffine rounds
    a shift to 1/32 px)."""
    import cv2

    rng = np.random.default_rng(7)
    texture = cv2.GaussianBlur(rng.normal(128, 60, (480, 1024)).astype(np.float32), (0, 0), 1.2)
    spectrum = np.fft.rfft(texture, axis=1)
    frequency = np.fft.rfftfreq(texture.shape[1])
    left = np.clip(texture, 0, 255).astype(np.uint8)
    xy = np.column_stack([rng.uniform(150, 600, 200), rng.uniform(20, 460, 200)])
    for disparity in np.arange(12.0, 13.0, 0.1):
        shifted = np.fft.irfft(spectrum * np.exp(2j * np.pi * frequency * disparity), axis=1)
        right = np.clip(shifted, 0, 255).astype(np.uint8)  # right(x) = left(x + disparity)
        start = disparity + rng.choice([-0.4, 0.4], len(xy))
        refined = row_disparity(left, right, xy, start, 3.0)
        assert abs(np.median(refined) - disparity) < 0.01
        assert np.mean(np.abs(refined - disparity) < 0.05) > 0.95


@pytest.mark.parametrize('seed', [0, 1])
def test_semi_global_stereo_gives_no_depth_across_a_silhouette(seed):
    """Keypoints within 2 px of a board's edges, on either side: SGBM reads some of them at
    the other side's depth; any that gets a depth must have its own surface's."""
    rng = np.random.default_rng(seed)
    d_wall, d_board, x0, x1 = 9.2, 24.5, 300, 420
    left, right = _board_in_front_of_a_wall(rng, d_wall, d_board, x0, x1)
    stereo = StereoDepth(36.8, 0.4, 6.0, matcher='semi_global')
    u = np.concatenate([rng.uniform(x0 - 2, x0 + 2, 100), rng.uniform(x1 - 2, x1 + 2, 100)])
    xy = np.column_stack([u, rng.uniform(40, 440, 200)]).astype(np.float32)
    features = Features(xy, np.zeros(200, int), np.zeros((200, 32), np.uint8))
    z = stereo(left, right, features, K)[:, 2]
    truth = np.where((np.round(u) >= x0) & (np.round(u) < x1), 36.8 / d_board, 36.8 / d_wall)
    has = np.isfinite(z)
    assert np.all(np.abs(z[has] - truth[has]) < 0.1 * truth[has])
    # Away from the edges the same surfaces keep their depth.
    far = np.column_stack([rng.uniform(x0 + 10, x1 - 10, 100), rng.uniform(40, 440, 100)])
    features = Features(far.astype(np.float32), np.zeros(100, int), np.zeros((100, 32), np.uint8))
    z = stereo(left, right, features, K)[:, 2]
    assert np.isfinite(z).mean() > 0.8


@pytest.mark.parametrize('seed', [5, 6])
def test_smoothing_gives_noisy_stereo_more_depth_and_keeps_it_right(seed):
    """A dim, amplified pair (strong independent noise in each image): smoothing the pair
    before association gives more keypoints a depth, still on the plane."""
    import cv2

    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (480, 700), dtype=np.uint8), (5, 5), 1.5)
    disparity = 18.4
    left = texture[:, 40:680].astype(np.float32)
    shift = np.float32([[1, 0, -disparity], [0, 1, 0]])
    right = cv2.warpAffine(texture, shift, (700, 480), flags=cv2.INTER_CUBIC)[:, 40:680]
    noisy = [
        np.clip(image + rng.normal(0, 25, image.shape), 0, 255).astype(np.uint8)
        for image in (left, right.astype(np.float32))
    ]
    xy = np.column_stack([rng.uniform(150, 600, 300), rng.uniform(20, 460, 300)])
    features = Features(xy.astype(np.float32), np.zeros(300, int), np.zeros((300, 32), np.uint8))
    raw = StereoDepth(36.8, 0.4, 6.0)(*noisy, features, K)[:, 2]
    smooth = StereoDepth(36.8, 0.4, 6.0, smoothing_px=1.0)(*noisy, features, K)[:, 2]
    assert np.isfinite(smooth).sum() > 2 * np.isfinite(raw).sum()
    assert np.nanmedian(np.abs(smooth - 2.0)) < 0.05  # 2.5 %: under half a pixel of disparity


@pytest.mark.parametrize('sigma', [4.0, 12.0, 25.0])
def test_noise_is_estimated_and_smoothing_chosen_to_bring_it_down(sigma):
    """Immerkaer's estimate finds the noise added to a textured image (its texture alone reads
    about 1.5, as daylight does), and the smoothing chosen from it brings the noise of a flat
    image down to about the target."""
    import cv2

    rng = np.random.default_rng(int(sigma))
    texture = cv2.GaussianBlur(rng.integers(0, 256, (480, 640), dtype=np.uint8), (0, 0), 2.0)
    clean = noise_sigma(texture)
    assert clean < 2.0
    noisy = np.clip(texture + rng.normal(0, sigma, texture.shape), 0, 255).astype(np.uint8)
    assert noise_sigma(noisy) == pytest.approx(np.hypot(sigma, clean), rel=0.15)
    assert denoise_sigma_px(clean, 3.0, 2.5) == 0.0  # daylight is left as it is
    assert denoise_sigma_px(sigma, 0.0, 2.5) == 0.0  # off
    px = denoise_sigma_px(sigma, 3.0, 2.5)
    assert 0 < px <= 2.5 and px * 4 == round(px * 4)
    flat = rng.normal(128, sigma, (480, 640))
    left = cv2.GaussianBlur(flat, (0, 0), px).std()
    assert 0.6 * 3.0 < left < 1.2 * 3.0  # quarter pixels: the target, give or take


def test_trajectory_metrics_agree_with_evo():
    evo_traj = pytest.importorskip('evo.core.trajectory')
    from evo.core import metrics, sync

    rng = np.random.default_rng(4)
    n = 200
    stamps = np.arange(n) * 50_000_000
    yaw = np.cumsum(rng.normal(0, 0.05, n))
    xy = np.cumsum(np.column_stack([np.cos(yaw), np.sin(yaw)]) * 0.05, axis=0)
    truth = np.array(
        [
            make_transform(Rotation.from_euler('z', a).as_matrix(), [x, y, 0])
            for a, (x, y) in zip(yaw, xy, strict=True)
        ]
    )
    drift = make_transform(Rotation.from_euler('z', 0.3).as_matrix(), [1.0, -2.0, 0.5])
    est = np.array([drift @ T for T in truth])
    est[:, :3, 3] += rng.normal(0, 0.02, (n, 3))
    ours = evaluate(stamps, est, stamps, truth)

    def traj(poses):
        q = Rotation.from_matrix(poses[:, :3, :3]).as_quat()[:, [3, 0, 1, 2]]
        return evo_traj.PoseTrajectory3D(poses[:, :3, 3], q, stamps * 1e-9)

    ref, e = sync.associate_trajectories(traj(truth), traj(est))
    e.align(ref, correct_scale=False)
    ape = metrics.APE(metrics.PoseRelation.translation_part)
    ape.process_data((ref, e))
    assert ours.ate_rmse_m == pytest.approx(
        ape.get_statistic(metrics.StatisticsType.rmse), rel=1e-6
    )
    assert np.allclose(
        umeyama(est[:, :3, 3], truth[:, :3, 3])[:3, :3], inverse(drift)[:3, :3], atol=0.01
    )


def test_distance_ratio_measures_a_scale_error():
    """An estimate that measures every motion 1 % short, in another frame, reads 0.99."""
    n = 120
    stamps = np.arange(n) * 50_000_000
    yaw = np.linspace(0, 3, n)
    xy = np.cumsum(np.column_stack([np.cos(yaw), np.sin(yaw)]) * 0.05, axis=0)
    truth = np.array(
        [
            make_transform(Rotation.from_euler('z', a).as_matrix(), [x, y, 0])
            for a, (x, y) in zip(yaw, xy, strict=True)
        ]
    )
    est = truth.copy()
    est[:, :3, 3] *= 0.99
    est = np.array(
        [make_transform(Rotation.from_euler('z', 1.0).as_matrix(), [2, 1, 0]) @ T for T in est]
    )
    assert evaluate(stamps, est, stamps, truth).distance_ratio == pytest.approx(0.99, abs=1e-9)
    assert evaluate(stamps, truth, stamps, truth).distance_ratio == pytest.approx(1.0, abs=1e-12)


# The ROS optical frame on a base whose x looks forward: camera z = base x, camera x = -base y.
T_BASE_OPTICAL = make_transform(np.array([[0.0, 0, 1], [-1, 0, 0], [0, -1, 0]]), [0.1, 0, 0.3])
PRIOR_SIGMAS = np.array([0.01, 0.01, 0.05, np.radians(3), np.radians(3), np.radians(0.5)])


def test_prior_information_follows_the_camera_mounting():
    """The base's forward axis is the optical frame's z and its yaw the camera's turn about y:
    the prior pins camera x, z and the turn about y, and height (camera y) and tilt loosely."""
    sigma = np.sqrt(np.diag(np.linalg.inv(camera_information(PRIOR_SIGMAS, T_BASE_OPTICAL))))
    assert sigma[1] > 2 * max(sigma[0], sigma[2])
    assert sigma[4] == pytest.approx(np.radians(0.5)) and min(sigma[3], sigma[5]) > 5 * sigma[4]


def _pnp_with_prior(rng, n: int, depth: tuple[float, float], prior_offset: np.ndarray):
    T_true = inverse(T_BASE_OPTICAL) @ make_transform(
        Rotation.from_rotvec([0, 0, rng.normal(0, 0.2)]).as_matrix(), [rng.normal(0, 1), 0, 0]
    )
    points_c = np.column_stack(
        [rng.uniform(-1, 1, n), rng.uniform(-0.5, 0.5, n), rng.uniform(*depth, n)]
    )
    points = (points_c - T_true[:3, 3]) @ T_true[:3, :3]  # camera to world
    uv, _ = project(T_true, points, K)
    uv += rng.normal(0, 0.7, uv.shape)
    solution = solve_pnp(points, uv, np.full(n, 0.7), K, T_true, ransac_px=3.0)
    prior = make_transform(t=prior_offset) @ T_true
    fused = with_prior(solution, prior, camera_information(PRIOR_SIGMAS, T_BASE_OPTICAL))
    return (
        np.linalg.norm((inverse(T_true) @ solution.T_cw)[:3, 3]),
        np.linalg.norm((inverse(T_true) @ fused.T_cw)[:3, 3]),
    )


def test_a_motion_prior_fixes_what_few_far_points_leave_open():
    """Fifteen points 6-9 m away leave the camera's forward position to centimetres; a prior
    good to millimetres brings it back. Four hundred near points hold against a prior 3 cm off."""
    rng = np.random.default_rng(4)
    far = np.array(
        [_pnp_with_prior(rng, 15, (6, 9), np.array([0.002, 0, 0.002])) for _ in range(20)]
    )
    assert np.median(far[:, 1]) < 0.5 * np.median(far[:, 0])
    near = np.array(
        [_pnp_with_prior(rng, 400, (1, 4), np.array([0.03, 0, 0.03])) for _ in range(5)]
    )
    assert np.all(near[:, 1] < near[:, 0] + 0.002)


def test_a_confirmed_prior_sets_the_planar_pose():
    """A dozen near inliers hold the pose to millimetres on their own, so weighed by their own
    information a prior 2 cm away barely moves it. Taken as mere confirmation of the prior,
    the pose is the prior's in what the prior pins (planar position)."""
    rng = np.random.default_rng(8)
    T_true = inverse(T_BASE_OPTICAL)  # the base at the origin
    points_c = np.column_stack(
        [rng.uniform(-1, 1, 12), rng.uniform(-0.5, 0.5, 12), rng.uniform(1, 3, 12)]
    )
    points = (points_c - T_true[:3, 3]) @ T_true[:3, :3]
    uv, _ = project(T_true, points, K)
    uv += rng.normal(0, 0.5, uv.shape)
    solution = solve_pnp(points, uv, np.full(12, 0.5), K, T_true, 3.0)
    assert solution is not None
    offset = make_transform(t=[0.02, 0.02, 0.0])  # the prior's base, 2 cm off
    T_prior = inverse(offset @ T_BASE_OPTICAL)
    information = camera_information(PRIOR_SIGMAS, T_BASE_OPTICAL)

    def base(T_cw: np.ndarray) -> np.ndarray:
        return (inverse(T_cw) @ inverse(T_BASE_OPTICAL))[:3, 3]

    weighed = base(with_prior(solution, T_prior, information).T_cw)
    confirmed = base(confirming_prior(solution, T_prior, PRIOR_SIGMAS, T_BASE_OPTICAL).T_cw)
    assert np.linalg.norm(weighed[:2] - offset[:2, 3]) > 0.01  # the images win
    assert np.linalg.norm(confirmed[:2] - offset[:2, 3]) < 0.001  # the prior's


def test_a_landmark_goes_out_only_after_its_depth_agreed_again():
    """Three landmarks of one pending keyframe, all confirmed by the pose: one whose depth
    agreed twice when measured again, one measured only at the first check (its pixel then
    lost in the right image, as on a person who walked off), one measured twice with one
    agreement. Only the first is published."""
    config = VisualOdometryConfig(depth_check_agreements=2)
    tracker = Tracker(config, make_extractor('orb', 100))
    points = np.array([[0.0, 0.0, 2.0], [0.5, 0.0, 2.0], [-0.5, 0.0, 2.0]])
    info = depth_information(points, np.eye(3), np.full(3, 0.01), 1.0, K[0, 0])
    ids = tracker.map.add(points, info, np.zeros((3, 32), np.uint8), 0, 0)
    tracker.T_cw = np.eye(4)
    tracker.pending.append(_Pending(0, 0, np.eye(4), ids, np.zeros((3, 2))))
    measured = np.array([[2.0, 2.0, 2.0], [2.0, np.nan, 2.0], [2.0, np.nan, np.nan]])
    for frame, depth in enumerate(measured, start=1):
        tracker.frame_index = frame
        image = Frame(frame, np.zeros((480, 640), np.uint8), K, None, 0.01, None)
        image.depth_at = lambda xy, expected, gray, z=depth: z
        uv, _ = project(tracker.T_cw, tracker.map.position, K)
        features = Features(uv, np.zeros(3, int), np.zeros((3, 32), np.uint8))
        tracker._check_depth(image, image.gray, features, np.arange(3), np.arange(3), {})
        tracker.map.record(np.arange(3), np.ones(3, bool), frame)
    np.testing.assert_array_equal(tracker.map.depth_agreements, [2, 0, 1])
    tracker.frame_index = config.depth_check_frames + 1  # all of them old enough
    (keyframe,) = tracker.flush()
    np.testing.assert_array_equal(keyframe.ids, ids[:1])


def test_new_landmarks_on_a_person_do_not_steer_the_pose():
    """60 landmarks of the room that fitted earlier frames, and 150 born at the last keyframe,
    120 of them on a person who has since stepped 8 cm sideways: a rigid group larger than the
    room. The pose is the room's; the person's landmarks are outliers, the new ones on the room
    inliers."""
    rng = np.random.default_rng(3)
    config = VisualOdometryConfig()
    tracker = Tracker(config, make_extractor('orb', 100))
    old, new = _scene(rng, 60), _scene(rng, 150)
    points = np.vstack([old, new])
    info = depth_information(points, np.eye(3), np.full(len(points), 0.01), 1.0, K[0, 0])
    tracker.map.add(old, info[:60], np.zeros((60, 32), np.uint8), 0, 0)
    tracker.map.add(new, info[60:], np.zeros((150, 32), np.uint8), 1, 9)
    tracker.map.hits[:60] = config.confirm_frames
    tracker.frame_index = 10
    T_true = make_transform(t=[0.02, 0.0, -0.03])
    person = np.arange(len(points)) >= 90
    seen = points + np.where(person[:, None], [0.08, 0.0, 0.0], 0.0)
    uv, _ = project(T_true, seen, K)
    uv += rng.normal(0, 0.5, uv.shape)
    index = np.arange(len(points))
    solution = tracker._solve(index, uv, np.full(len(points), 0.5), K, np.eye(4))
    assert solution is not None
    assert np.linalg.norm((inverse(T_true) @ solution.T_cw)[:3, 3]) < 0.005
    assert not solution.inliers[person].any()
    assert solution.inliers[~person].mean() > 0.9
