"""Visual odometry: features, stereo/RGB-D association, frame-to-local-map tracking, keyframes.

Everything here is ROS-free; `component.py` wires it to topics.
"""
