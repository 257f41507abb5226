"""Measurements of trained models."""
from .likelihood import active_units, evaluate_likelihood, evaluation_positions

__all__ = ["active_units", "evaluate_likelihood", "evaluation_positions"]
