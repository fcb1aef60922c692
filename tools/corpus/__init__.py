"""The generator of the classifier's shipped corpus (``python -m tools.corpus.generate``);
see ``generate.py``."""
