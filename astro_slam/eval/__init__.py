"""Evaluation against the simulator's ground truth (our own metrics; evo checks them in tests)."""
