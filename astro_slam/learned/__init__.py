"""Learned local features that survive light changes, run with onnxruntime on the CPU.

extractor.py is what the visual odometry runs (features: learned); network.py and train.py
(PyTorch, optional) reproduce the shipped model; views.py and judge.py make and score views of
simulated homes for training and for benchmarks/learned_features.py.
"""
