"""Measurements of trained models: likelihood, disentanglement, and the downstream uses."""
from .downstream import anomaly_detection, anomaly_scores, linear_probe
from .likelihood import active_units, evaluate_likelihood, evaluation_positions

__all__ = ["active_units", "anomaly_detection", "anomaly_scores", "evaluate_likelihood", "evaluation_positions", "linear_probe"]
