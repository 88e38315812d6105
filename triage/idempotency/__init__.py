"""Idempotency keys: a retried API request with the same key is answered once, from the stored response."""
