"""API users, their roles and hashed API keys."""
