"""Knowledge base: articles and chunks, hybrid search, past replies, reply drafts and their feedback."""
