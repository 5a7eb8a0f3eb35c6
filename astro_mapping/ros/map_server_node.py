"""Map server node: keyframes and the optimized path in, /map and /map_layers out.

Topics, parameters and frames: docs/ARCHITECTURE.md. The component this node hosts has not landed
yet, so `main` reports that and exits 1 rather than start a node that does nothing.
"""

from __future__ import annotations

import sys

from astro_slam.ros.unavailable import unavailable


def main(args: list[str] | None = None) -> int:
    return unavailable('map_server_node', 'the long-term layered map server')


if __name__ == '__main__':
    sys.exit(main())
