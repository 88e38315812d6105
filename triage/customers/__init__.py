"""Customers: what we know about the people who write to us (their tables live in triage.conversations)."""
