"""The package keeps its architecture: ROS-free core, real entry points, complete manifests."""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ('astro_slam', 'astro_fusion', 'astro_mapping')
ROS_MODULES = {
    'rclpy',
    'tf2_ros',
    'message_filters',
    'rcl_interfaces',
    'rosidl_runtime_py',
    'launch',
    'launch_ros',
    'ament_index_python',
    'builtin_interfaces',
}
# Extras a module may need without the core needing them: the `train` extra's PyTorch.
OPTIONAL = {'torch'}


def _python_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob('*.py'))


def _core_modules() -> list[str]:
    modules = []
    for path in _python_files():
        relative = path.relative_to(ROOT).with_suffix('')
        if 'ros' not in relative.parts:
            modules.append('.'.join(relative.parts).removesuffix('.__init__'))
    return modules


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.Import):
            names |= {a.name.split('.')[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split('.')[0])
    return names


def test_core_modules_never_import_ros():
    modules = _core_modules()
    assert len(modules) > 20
    code = (
        'import importlib, sys\n'
        f'for m in {modules!r}:\n'
        '    try:\n'
        '        importlib.import_module(m)\n'
        '    except ModuleNotFoundError as err:\n'
        f'        if err.name not in {sorted(OPTIONAL)!r}:\n'
        '            raise\n'
        "    bad = [k for k in sys.modules if k.split('.')[0] in "
        f'{sorted(ROS_MODULES)!r}]\n'
        "    assert not bad, f'{m} imported {bad}'\n"
    )
    result = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr


def _console_scripts() -> dict[str, str]:
    setup = (ROOT / 'setup.py').read_text()
    scripts = dict(re.findall(r"'([\w-]+) = ([\w.]+:\w+)'", setup))
    scripts.update(re.findall(r"'(\w+_node)': '([\w.]+:\w+)'", setup))
    return scripts


def test_every_console_script_target_exists():
    scripts = _console_scripts()
    assert {
        'astro-slam',
        'visual_odometry_node',
        'fusion_node',
        'backend_node',
        'map_server_node',
    } <= set(scripts)
    for name, target in scripts.items():
        module, function = target.split(':')
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin, f'{name}: no module {module}'
        tree = ast.parse(Path(spec.origin).read_text(encoding='utf-8'))
        functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert function in functions, f'{name}: {module} has no {function}()'


def _package_xml_depends() -> set[str]:
    root = ET.parse(ROOT / 'package.xml').getroot()
    assert root.get('format') == '3'
    assert root.findtext('name') == 'astro_slam'
    assert root.find('export/build_type').text == 'ament_python'
    return {e.text for tag in ('exec_depend', 'depend') for e in root.iter(tag)}


def test_package_xml_lists_every_ros_package_the_code_uses():
    depends = _package_xml_depends()
    used = set()
    files = [*_python_files(), *(ROOT / 'launch').glob('*.py')]
    for path in files:
        used |= _imports(path) & ROS_MODULES
        used |= set(re.findall(r"'(\w+)/(?:msg|srv)/\w+'", path.read_text(encoding='utf-8')))
    assert used, 'the scan found nothing: the test is broken'
    assert not used - depends, f'missing exec_depend: {sorted(used - depends)}'


def test_wheel_installs_launch_config_rviz_and_ament_marker(tmp_path):
    pytest.importorskip('setuptools')
    result = subprocess.run(
        [
            sys.executable,
            '-m',
            'pip',
            'wheel',
            '--no-deps',
            '--no-build-isolation',
            '-q',
            '-w',
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob('astro_slam-*.whl')
    names = zipfile.ZipFile(wheel).namelist()
    data = {n.split('.data/data/', 1)[1] for n in names if '.data/data/' in n}
    expected = {
        'share/ament_index/resource_index/packages/astro_slam',
        'share/astro_slam/package.xml',
        *(
            f'share/astro_slam/{p.relative_to(ROOT)}'
            for d in ('launch', 'config', 'rviz')
            for p in (ROOT / d).iterdir()
            if p.is_file()
        ),
    }
    assert len(expected) > 4
    assert expected <= data, sorted(expected - data)
    assert {'astro_slam/', 'astro_fusion/', 'astro_mapping/'} <= {
        n.split('/')[0] + '/' for n in names
    }
    # Models and vocabularies ship inside the package: nothing is downloaded at run time.
    assert {
        'astro_slam/backend/data/orb_vocabulary.npz',
        'astro_slam/backend/data/learned_vlad.npz',
        'astro_slam/learned/data/xfeat_binary.onnx',
        'astro_slam/learned/data/xfeat_binary_int8.onnx',
        'astro_slam/learned/data/LICENSE-XFeat',
        'astro_slam/learned/data/NOTICE',
    } <= set(names)


def test_launch_files_parse_and_declare_their_arguments():
    for path in (ROOT / 'launch').glob('*.launch.py'):
        tree = ast.parse(path.read_text(encoding='utf-8'))
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, 'id', '') == 'DeclareLaunchArgument'
        ]
        assert calls, path
        for call in calls:
            assert any(k.arg == 'description' for k in call.keywords), path


def test_launch_description_builds_with_the_launch_package():
    pytest.importorskip('launch_ros')
    from launch.launch_description_sources import PythonLaunchDescriptionSource

    for path in (ROOT / 'launch').glob('*.launch.py'):
        description = PythonLaunchDescriptionSource(str(path)).get_launch_description(None)
        assert description.get_launch_arguments()
