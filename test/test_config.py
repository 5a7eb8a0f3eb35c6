"""Configs: dataclass fields, ROS parameter files and config/astro_slam.yaml agree both ways."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from astro_slam.framework.config import (
    ConfigError,
    config_from_params,
    config_yaml,
    load_params_file,
    param,
    param_specs,
    params_for,
)
from astro_slam.stack import COMPONENTS, load_component
from astro_slam.tools.cli import main

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Example:
    rate_hz: float = param(30.0, 'Frame rate.', unit='Hz')
    rig: str = param('stereo', 'Camera rig.', choices=('stereo', 'rgbd'))
    sigmas: tuple[float, ...] = param((0.1, 0.2), 'Noise.', unit='m')
    enabled: bool = param(True, 'On or off.')


def test_every_registered_component_config_is_a_valid_parameter_set():
    for name in COMPONENTS:
        cls = load_component(name)
        specs = param_specs(cls.Config)
        assert all(s.doc.endswith('.') for s in specs), name
        assert cls.Config() == config_from_params(cls.Config, {})


def test_shipped_yaml_and_dataclasses_match_both_ways():
    nodes = load_params_file(ROOT / 'config' / 'astro_slam.yaml')
    expected = {load_component(n).node_name: load_component(n).Config for n in COMPONENTS}
    assert set(nodes) == set(expected)
    for node, config_cls in expected.items():
        assert set(nodes[node]) == {s.name for s in param_specs(config_cls)}, node
        params_for(nodes, node, config_cls)  # values have the right types


def test_dump_config_prints_the_shipped_yaml(capsys):
    assert main(['dump-config']) == 0
    assert capsys.readouterr().out == (ROOT / 'config' / 'astro_slam.yaml').read_text()


def test_int_is_accepted_for_float_and_lists_become_tuples():
    config = config_from_params(Example, {'rate_hz': 15, 'sigmas': [1, 2.5]})
    assert config.rate_hz == 15.0 and config.sigmas == (1.0, 2.5)


@pytest.mark.parametrize(
    'params', [{'rate_hz': 'fast'}, {'rig': 'mono'}, {'enabled': 1}, {'sigmas': 0.1}, {'nope': 1}]
)
def test_wrong_parameters_are_clear_errors(params):
    with pytest.raises(ConfigError):
        config_from_params(Example, params)


def test_params_file_with_namespaces_and_wildcard(tmp_path):
    path = tmp_path / 'p.yaml'
    path.write_text(
        yaml.safe_dump(
            {
                '/**': {'ros__parameters': {'rate_hz': 10.0, 'use_sim_time': True}},
                'robot1': {'example': {'ros__parameters': {'rig': 'rgbd', 'use_sim_time': True}}},
            }
        )
    )
    config = params_for(load_params_file(path), 'example', Example)
    assert (config.rate_hz, config.rig) == (10.0, 'rgbd')


def test_generated_yaml_is_a_params_file_with_the_values(tmp_path):
    config = Example(rig='rgbd', sigmas=(0.5,))
    path = tmp_path / 'out.yaml'
    path.write_text(config_yaml({'example': config}, 'header'))
    assert params_for(load_params_file(path), 'example', Example) == config
    assert '# Camera rig. One of' in path.read_text()


def test_broken_params_file_is_a_config_error(tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text('a: [unclosed')
    with pytest.raises(ConfigError):
        load_params_file(path)
    with pytest.raises(ConfigError):
        load_params_file(tmp_path / 'missing.yaml')


def test_example_robot_file_sets_only_real_parameters():
    from astro_slam.stack import COMPONENTS, load_component

    nodes = load_params_file(ROOT / 'config' / 'example_robot.yaml')
    names = {load_component(n).node_name for n in COMPONENTS}
    assert set(nodes) <= names, sorted(set(nodes) - names)
    for name in COMPONENTS:
        cls = load_component(name)
        params_for(nodes, cls.node_name, cls.Config)  # raises ConfigError on a wrong one
