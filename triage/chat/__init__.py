"""Live chat from the embeddable widget: per-conversation tokens for customers' browsers (issue 16 item 6)."""
