"""Simulated robots and homes that write ROS 2 bags with exact ground truth."""
