"""Frozen dataclass configs that mirror ROS parameters, and ROS 2 parameter files.

A component config is a frozen dataclass whose fields are declared with `param(...)`: the field
is the ROS parameter, with its documentation, unit and allowed values. The ROS layer declares
parameters by walking these fields; `astro-slam dump-config` prints them as a commented YAML.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

# Types a ROS 2 parameter can hold (arrays as tuples, so configs stay immutable).
_SCALARS = (bool, int, float, str)
_ARRAYS = {
    tuple[bool, ...]: bool,
    tuple[int, ...]: int,
    tuple[float, ...]: float,
    tuple[str, ...]: str,
}


class ConfigError(ValueError):
    """A parameter file or value that does not fit a component's config."""


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    name: str
    type: Any
    default: Any
    doc: str
    unit: str
    choices: tuple | None


def param(default: Any, doc: str, *, unit: str = '', choices: Iterable | None = None) -> Any:
    """A config field: default value, a sentence for users, the unit, allowed values."""
    metadata = {'doc': doc, 'unit': unit, 'choices': tuple(choices) if choices else None}
    if isinstance(default, list):
        default = tuple(default)
    return dataclasses.field(default=default, metadata=metadata)


def param_specs(config_cls: type) -> list[ParamSpec]:
    """The parameters of a config class, in declaration order, with resolved types."""
    hints = typing.get_type_hints(config_cls)
    specs = []
    for f in dataclasses.fields(config_cls):
        kind = hints[f.name]
        if kind not in _SCALARS and kind not in _ARRAYS:
            raise TypeError(f'{config_cls.__name__}.{f.name}: {kind} is not a ROS parameter type')
        if 'doc' not in f.metadata:
            raise TypeError(f'{config_cls.__name__}.{f.name} is not declared with param()')
        specs.append(
            ParamSpec(
                f.name,
                kind,
                f.default,
                f.metadata['doc'],
                f.metadata['unit'],
                f.metadata['choices'],
            )
        )
    return specs


def _coerce(spec: ParamSpec, value: Any) -> Any:
    kind = spec.type
    if kind in _ARRAYS:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f'{spec.name}: expected a list, got {value!r}')
        item = _ARRAYS[kind]
        return tuple(_coerce(dataclasses.replace(spec, type=item, choices=None), v) for v in value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not kind:
        raise ConfigError(f'{spec.name}: expected {kind.__name__}, got {value!r}')
    if spec.choices and value not in spec.choices:
        raise ConfigError(f'{spec.name}: {value!r} is not one of {list(spec.choices)}')
    return value


def config_from_params(config_cls: type, params: Mapping[str, Any]) -> Any:
    """A config from ROS parameter values; unknown names or wrong types raise ConfigError."""
    specs = {s.name: s for s in param_specs(config_cls)}
    if unknown := sorted(set(params) - set(specs)):
        raise ConfigError(
            f'{config_cls.__name__} has no parameter(s) {unknown}; it has {sorted(specs)}'
        )
    return config_cls(**{name: _coerce(specs[name], v) for name, v in params.items()})


def _flatten(params: Mapping[str, Any], prefix: str = '') -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f'{prefix}{key}'
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f'{name}.'))
        else:
            flat[name] = value
    return flat


def load_params_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """Parameters per node name from a ROS 2 params file (`node: {ros__parameters: {...}}`).

    Namespaced keys (`/robot/fusion_node`) count for the node's base name; `/**` applies to
    all nodes and is returned under '/**'.
    """
    try:
        document = yaml.safe_load(Path(path).read_text(encoding='utf-8'))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f'cannot read parameter file {path}: {err}') from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise ConfigError(f'{path}: expected a mapping of node names')
    return load_params_document(document, str(path))


def load_params_document(document: Mapping, source: str) -> dict[str, dict[str, Any]]:
    """Like load_params_file, for an already parsed mapping; recurses into namespace levels."""
    nodes: dict[str, dict[str, Any]] = {}
    for key, body in document.items():
        if isinstance(body, Mapping) and 'ros__parameters' in body:
            name = key if key == '/**' else key.rstrip('/').split('/')[-1]
            nodes.setdefault(name, {}).update(_flatten(body['ros__parameters'] or {}))
        elif isinstance(body, Mapping):
            for node, params in load_params_document(body, source).items():
                nodes.setdefault(node, {}).update(params)
        else:
            raise ConfigError(f'{source}: {key!r} has no ros__parameters')
    return nodes


def params_for(nodes: Mapping[str, Mapping[str, Any]], node_name: str, config_cls: type) -> Any:
    """The config of one node: defaults, then `/**` values it knows, then its own section."""
    known = {s.name for s in param_specs(config_cls)}
    params = {k: v for k, v in nodes.get('/**', {}).items() if k in known}
    params.update({k: v for k, v in nodes.get(node_name, {}).items() if not _is_ros_builtin(k)})
    return config_from_params(config_cls, params)


def _is_ros_builtin(name: str) -> bool:
    """Parameters every rclpy node owns, which are not part of a component's config."""
    return name in ('use_sim_time', 'start_type_description_service') or name.startswith(
        'qos_overrides.'
    )


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(
        list(value) if isinstance(value, tuple) else value, default_flow_style=True, width=1000
    ).strip()
    return text.removesuffix('\n...').strip()


def config_yaml(configs: Mapping[str, Any], header: str = '') -> str:
    """A commented ROS 2 params file.

    Args:
        configs: node name -> config instance (its values are written) or config class
            (its defaults).
        header: comment lines put first.
    """
    lines = [f'# {line}'.rstrip() for line in header.splitlines()]
    for node_name, config in configs.items():
        config_cls = config if isinstance(config, type) else type(config)
        if lines:
            lines.append('')
        lines += [f'{node_name}:', '  ros__parameters:']
        specs = param_specs(config_cls)
        if not specs:
            lines[-1] += ' {}'
        for spec in specs:
            value = spec.default if isinstance(config, type) else getattr(config, spec.name)
            unit = f' [{spec.unit}]' if spec.unit else ''
            choices = f' One of {list(spec.choices)}.' if spec.choices else ''
            lines.append(f'    # {spec.doc}{unit}{choices} Default: {_yaml_value(spec.default)}.')
            lines.append(f'    {spec.name}: {_yaml_value(value)}')
    return '\n'.join(lines) + '\n'
