"""What a node reports on /diagnostics, from the host's counts and its component."""

from __future__ import annotations

from astro_slam.framework.dispatch import DispatchStats
from astro_slam.framework.health import node_health
from astro_slam.msgs.diagnostics import from_diagnostic_array, to_diagnostic_array
from astro_slam.types import DiagnosticStatus


def test_drops_turn_the_node_warn_until_they_stop(factory):
    stats = DispatchStats()
    stats.received['/imu/data'] = 200
    status, drops = node_health('fusion', stats, {'state': 'ok', 'events': [1, 2]}, 0)
    assert status.level == DiagnosticStatus.OK and drops == 0
    assert status.values['received /imu/data'] == '200' and status.values['state'] == 'ok'
    assert 'events' not in status.values  # lists stay in run.json
    stats.dropped[('/imu/data', 'out_of_order')] += 3
    status, drops = node_health('fusion', stats, {}, drops)
    assert status.level == DiagnosticStatus.WARN and '3 messages dropped' in status.message
    assert status.values['dropped /imu/data (out_of_order)'] == '3'
    status, drops = node_health('fusion', stats, {}, drops)
    assert status.level == DiagnosticStatus.OK  # no new drop since the last report
    (back,) = from_diagnostic_array(to_diagnostic_array(factory, [status], 5))
    assert back.name == 'fusion' and back.values == status.values
