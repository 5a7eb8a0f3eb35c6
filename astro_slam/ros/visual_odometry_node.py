"""Visual odometry node: images in, /vo/odometry, /vo/keyframe and /vo/status out.

Topics, parameters and frames: docs/ARCHITECTURE.md. The component this node hosts has not landed
yet, so `main` reports that and exits 1 rather than start a node that does nothing.
"""

from __future__ import annotations

import sys

from astro_slam.ros.unavailable import unavailable


def main(args: list[str] | None = None) -> int:
    return unavailable(
        'visual_odometry_node', 'the visual odometry component (stereo/RGB-D tracking, keyframes)'
    )


if __name__ == '__main__':
    sys.exit(main())
