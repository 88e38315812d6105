"""Datasets, training, evaluation and the model registry."""
