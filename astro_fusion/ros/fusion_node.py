"""Fusion node: wheel odometry, IMU and VO in, /odometry/filtered and odom -> base_link out.

Topics, parameters and frames: docs/ARCHITECTURE.md. The component this node hosts has not landed
yet, so `main` reports that and exits 1 rather than start a node that does nothing.
"""

from __future__ import annotations

import sys

from astro_slam.ros.unavailable import unavailable


def main(args: list[str] | None = None) -> int:
    return unavailable(
        'fusion_node', 'the wheel + IMU + VO fusion filter with per-sensor reliability'
    )


if __name__ == '__main__':
    sys.exit(main())
