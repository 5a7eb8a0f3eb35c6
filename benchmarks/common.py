"""What the benchmark scripts share: the machine they ran on, and VO status from an output bag.

The scripts run as `python benchmarks/NAME.py`, so this file is importable as `common`.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from astro_slam.msgs.diagnostics import from_diagnostic_array
from astro_slam.tools.bag_io import BagReader


def machine() -> str:
    """CPU model, core count and Python version, for the header of every result."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path('/proc/cpuinfo')
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    return f'{model}, {os.cpu_count()} cores, Python {platform.python_version()}'


def vo_statuses(bag: Path) -> list[dict[str, str]]:
    """The values of every /vo/status message of an output bag, in order."""
    with BagReader(bag) as reader:
        return [from_diagnostic_array(m)[0].values for _, _, m in reader.messages({'/vo/status'})]
