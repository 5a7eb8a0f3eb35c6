"""The components of the stack by name, imported lazily (heavy modules load only when used).

Each node of docs/ARCHITECTURE.md registers its component here as it lands; `astro-slam replay`
and `dump-config` read this table.
"""

from __future__ import annotations

import importlib

from astro_slam.framework.component import Component

COMPONENTS: dict[str, str] = {
    'dead_reckoning': 'astro_fusion.dead_reckoning:DeadReckoning',
    'visual_odometry': 'astro_slam.vo.component:VisualOdometry',
    'fusion': 'astro_fusion.fusion:Fusion',
    'backend': 'astro_slam.backend.component:Backend',
    'map_server': 'astro_mapping.component:MapServer',
}

# What `astro-slam replay` runs without --components.
DEFAULT_STACK: tuple[str, ...] = ('fusion', 'visual_odometry', 'backend', 'map_server')


def load_component(name: str) -> type[Component]:
    """The component class registered as `name`.

    Raises:
        KeyError: no such component (the message lists the known ones).
    """
    if name not in COMPONENTS:
        raise KeyError(f'unknown component {name!r}; known: {", ".join(sorted(COMPONENTS))}')
    module, cls = COMPONENTS[name].split(':')
    return getattr(importlib.import_module(module), cls)
