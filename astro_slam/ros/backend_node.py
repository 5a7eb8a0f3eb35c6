"""Backend node: keyframes and fused odometry in, map -> odom, /slam/pose and /slam/path out.

Topics, parameters and frames: docs/ARCHITECTURE.md. The component this node hosts has not landed
yet, so `main` reports that and exits 1 rather than start a node that does nothing.
"""

from __future__ import annotations

import sys

from astro_slam.ros.unavailable import unavailable


def main(args: list[str] | None = None) -> int:
    return unavailable(
        'backend_node',
        'the loop closure and optimization backend (place recognition, GTSAM graph)',
    )


if __name__ == '__main__':
    sys.exit(main())
