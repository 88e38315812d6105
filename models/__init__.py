"""Machine-learning models: the encoder, text classifiers, and later the knowledge index and drafts."""
