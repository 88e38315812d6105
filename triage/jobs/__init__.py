"""Training jobs: durable rows for model training started over the API, run one at a time in the background."""
