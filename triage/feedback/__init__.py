"""Agents' corrections of predicted labels, kept as labelled examples for retraining (issue 4)."""
