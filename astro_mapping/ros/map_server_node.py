"""Map server node: keyframes and the optimized path in; the long-term map kept and published.

Subscribes: vo/keyframe, slam/path, camera/left/camera_info (parameter camera_info_topic);
/tf_static for T_base_camera.
Publishes: map (nav_msgs/OccupancyGrid, transient local), map_layers (MarkerArray: rooms,
doors, places, landmarks by persistence, changes), map_server/status (DiagnosticArray: bytes
per layer against memory_budget_bytes).
Service: map_server/save_map (std_srvs/Trigger): merge the session and save to map_path.
Parameters: astro_mapping.config.MapServerConfig (config/astro_slam.yaml).
The map is also saved every save_period_s and when the node shuts down.
"""

from __future__ import annotations

import sys

from astro_mapping.component import MapServer
from astro_slam.ros.binding import run_component


def main(args: list[str] | None = None) -> int:
    return run_component(MapServer, args)


if __name__ == '__main__':
    sys.exit(main())
