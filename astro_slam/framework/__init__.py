"""Component framework: ROS-free components, the offline Graph, synchronizer and TF buffer."""
