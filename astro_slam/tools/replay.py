"""The offline runner: a bag through the stack's components, outputs into a bag and trajectories.

One Graph per input bag (a bag is a session); components read the map at --map and keep it.
For each bag, DIR/<bag name>/ gets `bag/` (everything the nodes published), the TUM
trajectories, the effective `config.yaml` and `run.json` (timings, counts, drops).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import resource
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astro_slam.framework.config import config_yaml, load_params_file, params_for
from astro_slam.framework.graph import TF_STATIC_TOPIC, TF_TOPIC, Graph
from astro_slam.msgs.factory import default_factory
from astro_slam.stack import DEFAULT_STACK, load_component
from astro_slam.tools.bag_io import BagError, BagReader, BagTruncated, BagWriter, bag_name
from astro_slam.tools.recorder import GROUND_TRUTH_TOPIC, OutputBagRecorder, TrajectoryRecorder

logger = logging.getLogger(__name__)

IMAGE_TYPES = ('sensor_msgs/msg/Image', 'sensor_msgs/msg/CompressedImage')


@dataclass
class ReplayOptions:
    """What `astro-slam replay` was asked to do."""

    out: Path
    config: Path | None = None
    map_path: str | None = None
    mode: str | None = None
    components: tuple[str, ...] = DEFAULT_STACK
    storage: str = 'mcap'
    overwrite: bool = False
    progress: bool | None = None  # None: a bar only on a terminal


@dataclass
class BagResult:
    """The outcome of one bag; `messages` counts what reached the graph."""

    bag: str
    folder: Path | None = None
    messages: int = 0
    duration_s: float = 0.0
    wall_s: float = 0.0
    drops: int = 0
    truncated: bool = False
    error: str = ''
    warnings: list[str] = field(default_factory=list)

    @property
    def realtime_factor(self) -> float:
        return self.duration_s / self.wall_s if self.wall_s > 0 else 0.0


def _bag_image_transport(bag_topics: dict[str, str]) -> str | None:
    """'compressed' for a bag whose images were all recorded through image_transport's
    compressed plugins (simulated bags, most robot recordings), else None."""
    types = set(bag_topics.values())
    if 'sensor_msgs/msg/CompressedImage' in types and 'sensor_msgs/msg/Image' not in types:
        return 'compressed'
    return None


def build_graph(
    options: ReplayOptions, bag_topics: dict[str, str] | None = None
) -> tuple[Graph, dict[str, Any]]:
    """The stack's components wired in a Graph, with configs from --config and the flags.

    A component's `image_transport` not set in --config follows the bag: compressed when the
    bag holds only compressed images.
    """
    nodes = load_params_file(options.config) if options.config else {}
    transport = _bag_image_transport(bag_topics or {})
    graph = Graph(default_factory())
    configs = {}
    overrides = {'map_path': options.map_path, 'mode': options.mode}
    used = set()
    for name in options.components:
        cls = load_component(name)
        config = params_for(nodes, cls.node_name, cls.Config)
        fields = {f.name for f in dataclasses.fields(config)}
        wanted = {k: v for k, v in overrides.items() if v is not None and k in fields}
        used |= set(wanted)
        explicit = {**nodes.get('/**', {}), **nodes.get(cls.node_name, {})}
        if transport and 'image_transport' in fields and 'image_transport' not in explicit:
            wanted['image_transport'] = transport
        config = dataclasses.replace(config, **wanted)
        graph.add(cls, config)
        configs[cls.node_name] = config
    for flag, value in overrides.items():
        if value is not None and flag not in used:
            logger.warning(
                '--%s is ignored: no component of this stack has it', flag.replace('_', '-')
            )
    return graph, configs


def _check_inputs(graph: Graph, bag_topics: dict[str, str], result: BagResult) -> set[str]:
    """The bag topics to read; warns about inputs the bag lacks or carries with another type."""
    inputs = graph.inputs()
    wanted = set()
    for topic, msgtype in sorted(inputs.items()):
        if topic not in bag_topics:
            continue
        if bag_topics[topic] != msgtype:
            result.warnings.append(
                f'{topic} is {bag_topics[topic]} in the bag, expected {msgtype}'
            )
            continue
        wanted.add(topic)
    if missing := sorted(set(inputs) - set(bag_topics)):
        result.warnings.append(
            f'the bag lacks {", ".join(missing)} (it has: {", ".join(sorted(bag_topics))})'
        )
    if not wanted:
        raise BagError(
            f'nothing to process: the bag has none of the inputs {", ".join(sorted(inputs))} '
            f'(it has: {", ".join(sorted(bag_topics)) or "no topics"})'
        )
    extras = {TF_TOPIC, TF_STATIC_TOPIC, GROUND_TRUTH_TOPIC} & set(bag_topics)
    return wanted | extras


def _progress(reader: BagReader, enabled: bool | None) -> Any:
    from tqdm import tqdm

    total = max(reader.end_ns - reader.start_ns, 0) / 1e9
    return tqdm(
        total=round(total, 1),
        desc=reader.path.name,
        leave=False,
        disable=None if enabled is None else not enabled,  # None: only on a terminal
        bar_format='{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s of bag '
        '[{elapsed}<{remaining}{postfix}]',
    )


def _prepare_folder(folder: Path, overwrite: bool) -> None:
    if folder.exists():
        if not overwrite:
            raise BagError(f'{folder} exists; remove it or pass --overwrite')
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def replay_bag(path: Path, options: ReplayOptions) -> BagResult:
    """Replays one bag; errors are returned in the result, never raised."""
    result = BagResult(bag=str(path))
    try:
        with BagReader(path) as reader:
            if reader.salvaged:
                result.truncated = True
                result.warnings.append(reader.salvaged)
            graph, configs = build_graph(options, reader.topics)
            topics = _check_inputs(graph, reader.topics, result)
            result.folder = options.out / bag_name(Path(path))
            _prepare_folder(result.folder, options.overwrite)
            _run(reader, graph, topics, result, options)
            _write_config(result.folder / 'config.yaml', configs)
    except BagError as err:
        result.error = str(err)
    return result


def _run(
    reader: BagReader, graph: Graph, topics: set[str], result: BagResult, options: ReplayOptions
) -> None:
    folder = result.folder
    trajectories = TrajectoryRecorder()
    graph.tap(trajectories)
    counts: dict[str, int] = {}
    frames = 0
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    first_ns = last_ns = None
    with BagWriter(folder / 'bag', graph.factory, options.storage) as writer:
        bag_recorder = OutputBagRecorder(writer, graph.outputs())
        graph.tap(bag_recorder)
        with _progress(reader, options.progress) as bar:
            try:
                for topic, t_ns, msg in reader.messages(topics):
                    first_ns = t_ns if first_ns is None else first_ns
                    graph.feed(topic, msg, t_ns)
                    counts[topic] = counts.get(topic, 0) + 1
                    frames += reader.topics[topic] in IMAGE_TYPES
                    if last_ns is None or t_ns - last_ns > 200_000_000:
                        _advance(bar, (t_ns - first_ns) / 1e9, frames, start_wall)
                        last_ns = t_ns
            except BagTruncated as err:
                result.truncated = True
                result.warnings.append(str(err))
            graph.shutdown()  # the map server saves here, as on Ctrl-C live
    result.wall_s = time.perf_counter() - start_wall
    result.messages = sum(counts.values())
    if first_ns is not None and last_ns is not None:
        result.duration_s = (graph.now_ns - first_ns) / 1e9
    stats = graph.stats()
    result.drops = sum(
        n for node in stats.values() for per in node['dropped'].values() for n in per.values()
    )
    written = trajectories.write(folder)
    run = {
        'bag': str(reader.path),
        'components': list(options.components),
        'messages_in_index': reader.message_count,
        'messages_read': dict(sorted(counts.items())),
        'image_frames': frames,
        'truncated': result.truncated,
        'bag_duration_s': round(result.duration_s, 6),
        'wall_s': round(result.wall_s, 6),
        'cpu_s': round(time.process_time() - start_cpu, 6),
        'realtime_factor': round(result.realtime_factor, 3),
        # Of the whole process so far (Linux reports kB): with several bags, the largest yet.
        'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        'published': dict(sorted(writer.counts.items())),
        'not_recorded': bag_recorder.failed,
        'nodes': stats,
        'drops': result.drops,
        'trajectories': written,
        'warnings': result.warnings,
        'output_bag': str(folder / 'bag'),
    }
    (folder / 'run.json').write_text(json.dumps(run, indent=2) + '\n', encoding='utf-8')


def _advance(bar: Any, bag_s: float, frames: int, start_wall: float) -> None:
    wall = time.perf_counter() - start_wall
    bar.update(round(bag_s, 1) - bar.n)
    if wall > 0:
        bar.set_postfix_str(
            f'{frames / wall:.1f} frames/s, {bag_s / wall:.1f}x real time', refresh=False
        )


def _write_config(path: Path, configs: dict[str, Any]) -> None:
    header = 'Effective parameters of this run: pass this file to --config to repeat it.'
    path.write_text(config_yaml(configs, header), encoding='utf-8')


def replay(bags: list[Path], options: ReplayOptions) -> list[BagResult]:
    """Replays each bag in turn (sessions in order)."""
    return [replay_bag(Path(bag), options) for bag in bags]
