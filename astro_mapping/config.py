"""Parameters of the map server node (each field is a ROS parameter of the same name)."""

from __future__ import annotations

from dataclasses import dataclass

from astro_slam.framework.config import param
from astro_slam.vo.features import EXTRACTORS


@dataclass(frozen=True)
class MapServerConfig:
    map_path: str = param(
        '',
        "The long-term map file (SQLite). '' keeps the map in memory only (nothing saved).",
    )
    mode: str = param(
        'mapping',
        'mapping: load the map if it exists, merge each session into it and save it; '
        'localization: load it and only publish it (never written).',
        choices=('mapping', 'localization'),
    )
    features: str = param(
        'orb',
        'Descriptors the visual odometry sends (its own `features`); a map of another '
        "extractor's descriptors is not merged into.",
        choices=EXTRACTORS,
    )
    memory_budget_bytes: int = param(
        8_000_000,
        'Bytes the map may take (all layers as saved); pruning keeps it within.',
        unit='B',
    )
    prune: bool = param(
        True, 'Prune weak landmarks, crowded places and, over budget, the lowest-scoring ones.'
    )
    save_period_s: float = param(
        120.0,
        'Merge the session into the map and save it this often (0: only on the '
        'service and at shutdown).',
        unit='s',
    )
    publish_period_s: float = param(
        2.0, 'Period of /map (when it changed), /map_layers and /map_server/status.', unit='s'
    )
    map_frame: str = param('map', 'Frame of the map, the places and the grid.')
    base_frame: str = param('base_link', 'Robot body frame; camera extrinsics come from TF.')
    camera_info_topic: str = param(
        'camera/left/camera_info', "Intrinsics of the keyframes' pixels."
    )
    resolution_m: float = param(0.05, 'Cell size of the floor layer and /map.', unit='m')
    min_obstacle_height_m: float = param(
        0.05, 'Points lower than this above the floor are floor.', unit='m'
    )
    max_obstacle_height_m: float = param(
        1.0, 'Points higher than this do not block the robot (set to its height).', unit='m'
    )
    max_range_m: float = param(4.0, 'Landmarks farther from the camera are ignored.', unit='m')
    associate_radius_m: float = param(
        0.10,
        'A session landmark this close to a map landmark (and alike) is the same one.',
        unit='m',
    )
    major_change_share: float = param(
        0.5,
        "Share of a room's expected landmarks missed that marks it rearranged: its places "
        "are replaced by the session's.",
    )
    change_margin: float = param(
        0.2,
        'A room or place counts as changed only when its share of missed landmarks is this '
        "much above the session's own share over all it could judge (a dark session misses "
        'everywhere; a rearranged room stands out).',
    )
    place_spacing_m: float = param(
        0.4,
        'Places closer than this (and facing alike) are redundant: the best one stays.',
        unit='m',
    )
    min_places_per_room: int = param(
        4, 'Places every room keeps whatever the budget, so that it stays relocalizable.'
    )
    max_session_keyframes: int = param(
        20000, 'Keyframes held for the next merge; more are dropped (and counted).'
    )
