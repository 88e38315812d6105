"""Triage package."""
