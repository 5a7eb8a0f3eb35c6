"""Depth for left-image keypoints: from the rectified right image, or from a registered depth
image. Returns camera-frame points, NaN where a keypoint has no reliable depth.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

from astro_slam.vo.features import Features


def back_project(xy: np.ndarray, z: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N, 3) points in the optical frame from pixels and depths."""
    x = (xy[:, 0] - K[0, 2]) * z / K[0, 0]
    y = (xy[:, 1] - K[1, 2]) * z / K[1, 1]
    return np.column_stack([x, y, z])


def _flow(
    src: np.ndarray, dst: np.ndarray, points: np.ndarray, guess: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lucas-Kanade from points in src to dst, started at guess: (positions, ok flags)."""
    moved, status, _ = cv2.calcOpticalFlowPyrLK(
        src,
        dst,
        points,
        guess.copy(),
        winSize=(11, 11),
        maxLevel=1,
        flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
        criteria=(cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 0.01),
    )
    return moved, status


def row_disparity(
    left: np.ndarray,
    right: np.ndarray,
    xy: np.ndarray,
    start: np.ndarray,
    sigma_px: float,
    iterations: int = 10,
) -> np.ndarray:
    """Sub-pixel disparities of left pixels, refined from start along their rows (until no
    step is over a thousandth of a pixel, or for the given iterations).

    Gauss-Newton on the squared difference between the left window and the right one shifted by
    the disparity, each pixel weighed by a Gaussian of sigma_px around the keypoint (the window
    reaches 2 sigma, at most 11x11). Rectified stereo only moves along the row, so only the
    disparity is solved for; the Gaussian weights let the keypoint's own surface speak, where
    an 11x11 box of Lucas-Kanade leans towards a nearer surface at the window's edge.
    """
    radius = int(np.clip(np.ceil(2 * sigma_px), 1, 5))
    size = 2 * radius + 1
    n = len(xy)
    offsets = np.arange(-radius, radius + 1, dtype=np.float32)
    dy, dx = np.meshgrid(offsets, offsets, indexing='ij')
    weights = np.exp(-(dx**2 + dy**2) / (2 * sigma_px**2))
    map_x = (xy[:, 0, None, None] + dx).astype(np.float32).reshape(n * size, size)
    map_y = (xy[:, 1, None, None] + dy).astype(np.float32).reshape(n * size, size)
    right = right.astype(np.float32)
    gradient = cv2.Sobel(right, cv2.CV_32F, 1, 0, ksize=1, scale=0.5)  # central difference

    def sample(image: np.ndarray, shift: np.ndarray) -> np.ndarray:
        at_x = (map_x - np.repeat(shift, size)[:, None]).astype(np.float32)
        sampled = cv2.remap(image, at_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return sampled.reshape(n, size, size)

    patch = sample(left.astype(np.float32), np.zeros(n, np.float32))
    disparity = np.asarray(start, np.float64).copy()
    for _ in range(iterations):
        # left(x) - right(x - d - step) ~ error + gradient * step
        error = patch - sample(right, disparity)
        slope = sample(gradient, disparity)
        hessian = np.einsum('ij,nij->n', weights, slope * slope)
        step = -np.einsum('ij,nij->n', weights, error * slope) / np.maximum(hessian, 1e-6)
        step = np.clip(step, -1.0, 1.0)
        disparity += step
        if np.max(np.abs(step)) < 1e-3:
            break
    return disparity


STEREO_MATCHERS = ('block_matching', 'semi_global')


class StereoDepth:
    """Depth of left keypoints from a rectified pair, by one of two matchers.

    Both start from a disparity map read at the keypoints and run Lucas-Kanade (11x11 windows)
    from it into the right image and back; keypoints whose match does not come back, leaves
    the row, or lands over a pixel from the map's disparity (occlusion edges, where matching
    smears; repeated texture) get no depth.

    `block_matching`: StereoBM (11x11 blocks) gives a disparity at nearly every textured
    keypoint (descriptor matching against the right image's own keypoints found a third as
    many); the Lucas-Kanade match, refined along its row in a Gaussian window (row_disparity,
    `window_sigma_px`; 0 keeps Lucas-Kanade's own), is the sub-pixel disparity.

    `semi_global`: StereoSGBM (5x5 blocks, a smoothness cost along five directions, a
    left-right check and its own sub-pixel fit), and its disparity is kept: Lucas-Kanade only
    vets it. 11x11 windows lean towards a nearer surface beside the keypoint (foreground
    fattening, about 0.15 px too much disparity there); on simulated homes that lean, not the
    noise, made the VO measure distances up to 0.8 % short, and refining SGBM's disparities by
    Lucas-Kanade, even in 5x5 windows, brought the shortfall back (docs/BENCHMARKS.md). SGBM's
    fit locks towards sixteenths of a pixel (up to 0.3 px off at some fractions, averaging out
    over many). It costs about three times the block matcher's time, paid at keyframes only.
    A keypoint within 3 px of a depth edge in its disparity map gets no depth: there SGBM
    gave corner keypoints of a silhouette the nearer side's depth (7 % of a session's keyframe
    landmarks were off the static home by over 10 %). Not for the block matcher: its map
    leaves many pixels near texture unmatched, and the rule cost it tracking in dim light.

    With `smoothing_px` > 0 both run on the pair smoothed by a Gaussian of that sigma: in dim
    light the sensor noise, which CLAHE lifts, otherwise fails the forward-backward check of
    most keypoints.
    """

    def __init__(
        self,
        focal_baseline: float,
        min_depth_m: float,
        max_depth_m: float,
        smoothing_px: float = 0.0,
        matcher: str = 'block_matching',
        window_sigma_px: float = 3.0,
    ) -> None:
        if matcher not in STEREO_MATCHERS:
            raise ValueError(f'stereo matcher must be one of {STEREO_MATCHERS}, not {matcher!r}')
        self.focal_baseline = focal_baseline
        self.smoothing_px = smoothing_px
        self.min_disparity = focal_baseline / max_depth_m
        self.max_disparity = focal_baseline / min_depth_m
        self.semi_global = matcher == 'semi_global'
        self.window_sigma_px = window_sigma_px
        levels = int(np.clip(np.ceil(self.max_disparity / 16), 1, 16)) * 16
        if self.semi_global:
            block = 5
            self.matcher = cv2.StereoSGBM_create(
                minDisparity=0,
                numDisparities=levels,
                blockSize=block,
                P1=8 * block**2,
                P2=32 * block**2,
                disp12MaxDiff=1,
                uniquenessRatio=10,
                mode=cv2.STEREO_SGBM_MODE_SGBM,
            )
        else:
            self.matcher = cv2.StereoBM_create(numDisparities=levels, blockSize=11)
            self.matcher.setUniquenessRatio(10)
            self.matcher.setTextureThreshold(5)

    def __call__(
        self, left_gray: np.ndarray, right_gray: np.ndarray, left: Features, K: np.ndarray
    ) -> np.ndarray:
        points = np.full((len(left), 3), np.nan)
        if len(left) == 0:
            return points
        if self.smoothing_px > 0:
            left_gray = cv2.GaussianBlur(left_gray, (0, 0), self.smoothing_px)
            right_gray = cv2.GaussianBlur(right_gray, (0, 0), self.smoothing_px)
        disparity = self.matcher.compute(left_gray, right_gray).astype(np.float32) / 16.0
        h, w = disparity.shape
        u = np.clip(np.round(left.xy[:, 0]).astype(int), 0, w - 1)
        v = np.clip(np.round(left.xy[:, 1]).astype(int), 0, h - 1)
        coarse = disparity[v, u]
        valid = coarse > 0
        if self.semi_global:
            valid &= ~self._on_depth_edge(disparity, u, v, coarse)
        index = np.flatnonzero(valid)
        if len(index) == 0:
            return points
        # SGBM's own disparity is kept, so its Lucas-Kanade match is not refined further.
        fine, ok = self._refine(
            left_gray, right_gray, left.xy[index], coarse[index], not self.semi_global
        )
        ok &= np.abs(fine - coarse[index]) <= 1.0
        if self.semi_global:
            fine = coarse[index]  # Lucas-Kanade only vets it: its windows lean (above)
        ok &= (fine >= self.min_disparity) & (fine <= self.max_disparity)
        keep = index[ok]
        points[keep] = back_project(left.xy[keep], self.focal_baseline / fine[ok], K)
        return points

    def at(
        self, left_gray: np.ndarray, right_gray: np.ndarray, xy: np.ndarray, z_guess: np.ndarray
    ) -> np.ndarray:
        """Depth at given left pixels (NaN where none), matched into the right image from the
        disparity of z_guess: a few dozen keypoints per frame, without a disparity map."""
        z = np.full(len(xy), np.nan)
        if len(xy) == 0:
            return z
        if self.smoothing_px > 0:
            left_gray = cv2.GaussianBlur(left_gray, (0, 0), self.smoothing_px)
            right_gray = cv2.GaussianBlur(right_gray, (0, 0), self.smoothing_px)
        disparity, ok = self._refine(
            left_gray, right_gray, xy, self.focal_baseline / z_guess, along_row=True
        )
        ok &= (disparity >= self.min_disparity) & (disparity <= self.max_disparity)
        z[ok] = self.focal_baseline / disparity[ok]
        return z

    @staticmethod
    def _on_depth_edge(
        disparity: np.ndarray, u: np.ndarray, v: np.ndarray, coarse: np.ndarray
    ) -> np.ndarray:
        """Whether each keypoint's 7x7 neighbourhood spans a depth edge: disparities apart by
        over 10 % (at least 1.5 px, which a floor seen at a slant spans), or an unmatched
        (occluded) pixel. SGBM carries the nearer side's disparity up to half its block past
        a silhouette, where a corner keypoint sits."""
        kernel = np.ones((7, 7), np.uint8)
        high = cv2.dilate(disparity, kernel)[v, u]
        low = cv2.erode(disparity, kernel)[v, u]
        return (low <= 0) | (high - low > np.maximum(1.5, 0.1 * coarse))

    def _refine(
        self,
        left_gray: np.ndarray,
        right_gray: np.ndarray,
        xy: np.ndarray,
        guess: np.ndarray,
        along_row: bool,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Disparities of left pixels from guessed ones, and whether each holds.

        Lucas-Kanade into the right image and back decides whether a match holds: it must come
        back to its pixel (an occluded or repeated-texture match does not) and stay on its row.
        With along_row and window_sigma_px > 0, the disparities that hold are then refined by
        row_disparity: on simulated homes Lucas-Kanade's 11x11 box read about 0.01 px too much
        disparity on smooth surfaces and 0.10 px beside a nearer surface (medians), which
        made the VO's distances short; the Gaussian window (sigma 3 px) reads about half and
        two thirds of that, with no more noise (docs/BENCHMARKS.md).
        """
        p_left = xy.reshape(-1, 1, 2).astype(np.float32)
        start = p_left.copy()
        start[:, 0, 0] -= guess
        refined, status = _flow(left_gray, right_gray, p_left, start)
        back, back_status = _flow(right_gray, left_gray, refined, p_left)
        refined = refined.reshape(-1, 2)
        ok = (status.reshape(-1) & back_status.reshape(-1)).astype(bool)
        ok &= np.linalg.norm(back.reshape(-1, 2) - xy, axis=1) <= 0.5
        ok &= np.abs(refined[:, 1] - xy[:, 1]) <= 1.0
        disparity = xy[:, 0] - refined[:, 0].astype(np.float64)
        if along_row and self.window_sigma_px > 0 and ok.any():
            disparity[ok] = row_disparity(
                left_gray, right_gray, xy[ok], disparity[ok], self.window_sigma_px
            )
        return disparity, ok


def depth_points(
    depth_m: np.ndarray, left: Features, K: np.ndarray, min_depth_m: float, max_depth_m: float
) -> np.ndarray:
    """Points of the keypoints from a depth image registered to the colour image (NaN where
    none; see depth_at_pixels)."""
    z = depth_at_pixels(depth_m, left.xy, min_depth_m, max_depth_m)
    points = np.full((len(left), 3), np.nan)
    ok = np.isfinite(z)
    points[ok] = back_project(left.xy[ok], z[ok], K)
    return points


def depth_at_pixels(
    depth_m: np.ndarray, xy: np.ndarray, min_depth_m: float, max_depth_m: float
) -> np.ndarray:
    """Depth at pixels of a registered depth image, NaN where none.

    The depth is the median of the valid 3x3 neighbours, and a pixel on a depth edge (the
    neighbours disagree by over 5 %) gets none: a corner's depth is ambiguous there.
    """
    z = np.full(len(xy), np.nan)
    if len(xy) == 0:
        return z
    h, w = depth_m.shape
    u = np.clip(np.round(xy[:, 0]).astype(int), 1, w - 2)
    v = np.clip(np.round(xy[:, 1]).astype(int), 1, h - 2)
    patches = np.stack([depth_m[v + dv, u + du] for dv in (-1, 0, 1) for du in (-1, 0, 1)], axis=1)
    with warnings.catch_warnings():  # all-NaN patches are expected: no depth there
        warnings.simplefilter('ignore', RuntimeWarning)
        median = np.nanmedian(patches, axis=1)
        spread = np.nanmax(patches, axis=1) - np.nanmin(patches, axis=1)
    ok = np.isfinite(median) & (median >= min_depth_m) & (median <= max_depth_m)
    ok &= spread <= 0.05 * median
    z[ok] = median[ok]
    return z
