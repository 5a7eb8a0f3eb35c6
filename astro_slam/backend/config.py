"""Parameters of the backend node (each field is a ROS parameter of the same name)."""

from __future__ import annotations

from dataclasses import dataclass

from astro_slam.framework.config import param
from astro_slam.vo.features import EXTRACTORS


@dataclass(frozen=True)
class BackendConfig:
    map_frame: str = param('map', 'Global frame: parent of map -> odom (REP-105).')
    odom_frame: str = param('odom', 'Frame of the fused odometry.')
    base_frame: str = param('base_link', 'Robot body frame; camera extrinsics come from TF.')
    odometry_topic: str = param(
        '/odometry/filtered', 'Odometry that places keyframes between loop closures.'
    )
    camera_info_topic: str = param(
        'camera/left/camera_info',
        "Intrinsics of the keyframes' pixels (camera/color/camera_info on an RGB-D rig).",
    )
    map_path: str = param(
        '',
        'Saved long-term map to relocalize in at the start (read only: the map server writes '
        "it). '' or a missing file: start a new map where the robot stands.",
    )
    publish_rate_hz: float = param(20.0, 'Rate of map -> odom and /slam/pose.', unit='Hz')
    path_period_s: float = param(
        1.0, 'Least time between /slam/path messages (a loop publishes at once).', unit='s'
    )
    # Odometry factors between keyframes
    odom_trans_sigma_per_m: float = param(
        0.03, 'Odometry translation noise per metre between keyframes (at least this).', unit='1'
    )
    odom_rot_sigma_per_m: float = param(
        0.01, 'Odometry heading noise per metre travelled.', unit='rad/m'
    )
    odom_rot_sigma_per_rad: float = param(
        0.03, 'Odometry heading noise per radian turned.', unit='1'
    )
    odom_sigma_floor_m: float = param(0.005, 'Smallest odometry translation noise.', unit='m')
    odom_sigma_floor_rad: float = param(0.002, 'Smallest odometry rotation noise.', unit='rad')
    # Windowed bundle adjustment
    local_ba: bool = param(
        False,
        'Bundle-adjust the newest keyframes and their shared landmarks after each keyframe, '
        'and tie consecutive keyframes by the result (needs the landmark id field).',
    )
    ba_window: int = param(8, 'Keyframes in the bundle adjustment window (bounds its cost).')
    ba_sigma_m: float = param(
        0.005, 'Noise of the relative pose the adjustment gives a new keyframe.', unit='m'
    )
    ba_sigma_rad: float = param(0.001, 'Same, in rotation.', unit='rad')
    refine_intrinsics: bool = param(
        False,
        'Refine fx, cx, cy (fy at the aspect ratio) in the bundle adjustment, from '
        'camera_info as a weak prior; reported on slam/status.',
    )
    # Place recognition
    features: str = param(
        'orb',
        'Descriptors the visual odometry sends (its own `features`): picks the shipped place '
        'model, a bag of ORB words or VLAD of learned descriptors.',
        choices=EXTRACTORS,
    )
    vocabulary: str = param(
        '',
        'Place model file (.npz: a vocabulary from train_vocabulary.py or VLAD centres from '
        "astro_slam/learned/train.py); '' for the one shipped for `features`.",
    )
    candidates: int = param(5, 'Place candidates verified per keyframe.')
    rerank_candidates: int = param(
        0,
        'Place candidates whose landmarks are matched to the keyframe by descriptor; the '
        '`candidates` with the most matches are verified. Across light and furniture change the '
        'right place is often among the 20 most similar place vectors but not the first 5 '
        '(20: more loops and better place recall), but in a simulated month it once let a day '
        'relocalize 25-30 cm off, which the pruned map kept; off until that is understood. At '
        'most `candidates` (e.g. 0): the place vectors alone choose.',
    )
    min_similarity: float = param(
        0.1,
        'Least place-vector similarity (cosine, 0..1) of a candidate: a low bar, the index '
        'only orders candidates and verification decides.',
    )
    exclude_recent_s: float = param(
        20.0, 'Keyframes younger than this are not loop candidates (they are odometry).', unit='s'
    )
    # Geometric verification
    match_ratio: float = param(
        0.8, "Lowe's ratio of a descriptor match: best distance below this share of the second."
    )
    ransac_px: float = param(3.0, 'PnP RANSAC reprojection threshold.', unit='px')
    min_inliers: int = param(20, 'PnP inliers a loop or relocalization needs.')
    min_inlier_ratio: float = param(0.3, 'Share of descriptor matches that must be inliers.')
    two_way_m: float = param(
        0.15,
        "A loop's pose found from the candidate's landmarks and the one found from the query's "
        "(each direction rests on one keyframe's depths) must agree this well.",
        unit='m',
    )
    # Loop acceptance
    loop_gate_m: float = param(
        0.2,
        'A loop may move the graph this much, plus loop_gate_per_m of the path since the '
        'candidate (or since the last loop).',
        unit='m',
    )
    loop_gate_per_m: float = param(
        0.02,
        'Loop gate growth per metre of odometry: twice the fused odometry drift (about 1 %).',
        unit='1',
    )
    loop_gate_rad: float = param(
        0.17, 'Rotation a loop may correct, plus loop_gate_rad_per_m.', unit='rad'
    )
    loop_gate_rad_per_m: float = param(0.02, 'Loop rotation gate growth.', unit='rad/m')
    loop_confirmations: int = param(
        2, 'Consecutive keyframes whose loops agree before they are committed.'
    )
    loop_window: int = param(4, 'Keyframes within which a tentative loop must be confirmed.')
    loop_agree_m: float = param(
        0.15, 'Confirming loops agree when their corrections differ by less than this.', unit='m'
    )
    loop_agree_rad: float = param(0.05, 'Same, in heading.', unit='rad')
    loop_sigma_m: float = param(0.05, 'Loop closure translation noise.', unit='m')
    loop_sigma_rad: float = param(0.02, 'Loop closure rotation noise.', unit='rad')
    loop_kernel: str = param(
        'cauchy', 'Robust kernel of loop factors.', choices=('cauchy', 'none')
    )
    # Relocalization
    reloc_candidates: int = param(
        20,
        'Place candidates verified per keyframe while relocalizing (`candidates` otherwise).',
    )
    reloc_confirmations: int = param(
        2, 'Keyframes that must agree on the pose before relocalization is committed.'
    )
    reloc_window: int = param(
        8, 'Recent keyframes whose hypotheses are weighed (any disagreement waits).'
    )
    reloc_agree_m: float = param(
        0.2, 'Hypotheses agree when they put the robot this close.', unit='m'
    )
    reloc_agree_rad: float = param(
        0.1, 'Same, in rotation (odometry drift over the window included).', unit='rad'
    )
    reloc_max_pending: int = param(
        300,
        'Keyframes kept while lost; older ones are dropped (they will not join the map) so '
        'that a robot lost for long does not fill its memory.',
    )
