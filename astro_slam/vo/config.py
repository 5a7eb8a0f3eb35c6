"""Parameters of the visual odometry node (one field per ROS parameter)."""

from __future__ import annotations

from dataclasses import dataclass

from astro_slam.framework.config import param
from astro_slam.vo.association import STEREO_MATCHERS
from astro_slam.vo.features import EXTRACTORS


@dataclass(frozen=True)
class VisualOdometryConfig:
    rig: str = param(
        'stereo',
        'Camera rig: a rectified stereo pair, or colour with registered depth.',
        choices=('stereo', 'rgbd'),
    )
    image_transport: str = param(
        'raw',
        'Image topics as image_transport publishes them: raw Image, or '
        '<image>/compressed (JPEG) and <depth>/compressedDepth (PNG).',
        choices=('raw', 'compressed'),
    )
    odom_frame: str = param('vo_odom', 'Frame of /vo/odometry: where the VO started.')
    base_frame: str = param('base_link', 'Robot body frame; camera extrinsics come from TF.')
    prior_odometry_topic: str = param(
        '/odometry/filtered',
        'Odometry used as motion prior, to predict and to check the pose '
        "(wheel or fused); '' for a constant-velocity prior.",
    )
    features: str = param(
        'orb',
        'Local feature extractor: ORB, or the learned network (XFeat keypoints, 256-bit '
        'descriptors trained for light changes; onnxruntime on the CPU).',
        choices=EXTRACTORS,
    )
    feature_model: str = param(
        '',
        "The learned extractor's network: '' for the one shipped in the package, 'int8' for "
        'its shipped 8-bit version (a fifth less time on CPUs with VNNI, a few percent '
        'fewer correct matches; docs/BENCHMARKS.md), or an .onnx file.',
    )
    learned_input_scale: float = param(
        1.0,
        'The learned network runs on the image resized by this factor: 0.8 takes a third '
        'less time, with keypoints on a coarser grid (docs/BENCHMARKS.md).',
    )
    max_features: int = param(800, 'Keypoints per image, spread over an 8x6 grid.')
    normalisation: str = param(
        'clahe',
        'Photometric normalisation before feature extraction.',
        choices=('clahe', 'none'),
    )
    denoise_target_noise: float = param(
        3.0,
        'Sensor noise (grey levels, estimated in every image) above which the image is '
        'smoothed before normalisation, features and stereo, by a Gaussian that brings the '
        'noise down to this; 0: never. Daylight images (about 1.5) are left as they are; '
        'a camera at its gain limit in the dark (about 20) is smoothed by some 2 px.',
    )
    denoise_max_px: float = param(2.5, 'Largest Gaussian sigma of that smoothing.', unit='px')
    min_depth_m: float = param(0.4, 'Nearest depth used for landmarks.', unit='m')
    max_depth_m: float = param(
        6.0, 'Farthest depth used for landmarks (stereo error grows as depth squared).', unit='m'
    )
    max_descriptor_distance: int = param(
        64, 'Largest descriptor distance of a match.', unit='bits'
    )
    match_radius_px: float = param(15.0, 'Search radius around a predicted landmark.', unit='px')
    match_radius_lost_px: float = param(60.0, 'Search radius after a failed frame.', unit='px')
    ransac_px: float = param(3.0, 'PnP RANSAC reprojection threshold.', unit='px')
    min_inliers: int = param(25, 'Fewer pose inliers than this is a tracking failure.')
    min_inliers_with_prior: int = param(
        12, 'Pose inliers that suffice when the pose agrees with the motion prior.'
    )
    strong_inliers: int = param(
        80,
        'With this many inliers a pose is kept even when the motion prior disagrees '
        '(the wheels may be slipping).',
    )
    prior_gate_m: float = param(
        0.05,
        'Largest disagreement with the motion prior per frame, plus 20 % of the prior motion.',
        unit='m',
    )
    prior_gate_deg: float = param(3.0, 'Largest heading disagreement per frame.', unit='deg')
    prior_sigma_m: float = param(
        0.003,
        'Standard deviation of the motion prior per frame, planar position: each pose is '
        'weighed with the prior by their information, so directions the images pin down '
        'poorly (few inliers, all far) follow the prior. Raise it for wheels that slip often.',
        unit='m',
    )
    prior_sigma_deg: float = param(
        0.5, 'Standard deviation of the motion prior per frame, heading.', unit='deg'
    )
    keyframe_min_tracked_ratio: float = param(
        0.6, "New keyframe when inliers fall below this share of the last keyframe's."
    )
    keyframe_min_inliers: int = param(
        60,
        'While the pose has fewer inliers than this, a new keyframe comes after a third of '
        'keyframe_max_translation_m or keyframe_max_rotation_deg: a thin local map (a turn '
        'into a view it does not cover, a keyframe whose right image a person spoiled) gets '
        'new landmarks before it runs out. 0: off.',
    )
    keyframe_max_translation_m: float = param(0.3, 'New keyframe after this motion.', unit='m')
    keyframe_max_rotation_deg: float = param(15.0, 'New keyframe after this turn.', unit='deg')
    keyframe_max_interval_s: float = param(2.0, 'New keyframe at least this often.', unit='s')
    window_keyframes: int = param(8, 'Keyframes whose landmarks form the local map.')
    confirm_frames: int = param(
        2,
        'Frames in which a new landmark must fit the pose before it is published, and before '
        'it helps to solve the pose (while min_inliers older ones are matched): rejects people '
        'and pets.',
    )
    depth_check_frames: int = param(
        15,
        "Frames after its birth in which a new landmark's depth is measured again where the "
        'pose fits it, and compared with the first of those measurements; keyframes are '
        'published after this many frames (1 s at 15 Hz): by then a person walking along the '
        'optical axis has moved several depth sigmas. 0: no check.',
    )
    depth_check_sigma: float = param(
        3.0,
        'A landmark whose depth changed otherwise than the camera moved, by more than this many '
        'standard deviations of the difference of two depth measurements '
        '(stereo_disparity_sigma_px or rgbd_depth_noise), has moved and is dropped.',
    )
    depth_check_agreements: int = param(
        2,
        'A landmark is published (in a keyframe) only once its depth, measured again, agreed '
        'with the first measurement this many times: a person walking along the optical axis '
        'whose later measurements failed is not let through (docs/BENCHMARKS.md).',
    )
    reinit_after_frames: int = param(
        8, 'Failed frames in a row (with usable images) before tracking restarts.'
    )
    bridge_with_prior: bool = param(
        False,
        'A frame the local map no longer explains (an unmapped view after a turn, a person in '
        'front) becomes a keyframe at the pose the motion prior predicts, once per failure '
        'streak, instead of waiting reinit_after_frames for a restart: more frames tracked, '
        'up to 1.2 cm more ATE where a person fills the view (docs/BENCHMARKS.md).',
    )
    min_init_points: int = param(50, 'Keypoints with depth needed to start tracking.')
    min_brightness: float = param(3.0, 'Mean grey level below which an image is too dark.')
    min_contrast: float = param(2.0, 'Grey-level standard deviation below which it is blank.')
    min_sharpness: float = param(
        0.02, 'Laplacian variance over contrast squared below which an image is blurred.'
    )
    stereo_matcher: str = param(
        'block_matching',
        'Stereo association at keyframes: block_matching (StereoBM in 11x11 blocks, then '
        'Lucas-Kanade, refined per stereo_window_sigma_px) or semi_global (StereoSGBM, 5x5 '
        'blocks, no depth across a depth edge), which does not lean towards a nearer surface '
        'beside a keypoint and drifts less over 30 s, at three times the cost per keyframe; '
        'with it the simulated month placed its keyframes further from the truth (12-13 cm '
        'against 6-9) and the night demo did worse (docs/BENCHMARKS.md), so it is not the '
        'default.',
        choices=STEREO_MATCHERS,
    )
    stereo_smoothing_px: float = param(
        0.0,
        'Gaussian smoothing of the stereo pair before depth association (0: none): more '
        'keypoints get a depth in dim, noisy images.',
        unit='px',
    )
    stereo_window_sigma_px: float = param(
        3.0,
        'Sub-pixel stereo disparity of the block matcher: refined along the image row in a '
        'window weighted by a Gaussian of this sigma (at most 11x11), which leans less towards '
        "a nearer surface than Lucas-Kanade's 11x11 box; 0 keeps Lucas-Kanade's disparity "
        '(the choice before 2026-12-07; docs/BENCHMARKS.md).',
        unit='px',
    )
    stereo_disparity_sigma_px: float = param(
        0.25,
        'Disparity noise after sub-pixel refinement, in raw (unsmoothed) images: weighs '
        'stereo depth. A pair smoothed by s px (denoise_target_noise) is taken to have (1 + s) '
        'times this.',
        unit='px',
    )
    rgbd_depth_noise: float = param(
        0.003,
        'RGB-D depth sigma over depth squared (structured light and ToF grow so).',
        unit='1/m',
    )
    pixel_sigma_px: float = param(1.0, 'Keypoint position noise at full resolution.', unit='px')
    covariance_scale: float = param(
        3.0,
        'Inflation of the pose standard deviation for what motion-only refinement ignores '
        '(landmark position error).',
    )

    def __post_init__(self) -> None:
        if not 0 < self.min_depth_m < self.max_depth_m:
            raise ValueError('need 0 < min_depth_m < max_depth_m')
        if self.stereo_window_sigma_px < 0:
            raise ValueError('stereo_window_sigma_px must be 0 (off) or positive')
