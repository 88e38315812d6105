"""Flows: the work that strings several domains together; domain services stay leaves."""
