"""Tools that build the data the ``minsheng`` package ships (the classifier's corpus, the demo
city). They run at development time, from the repository root; nothing in ``src/`` imports
them. Each regenerates its files byte for byte, and a test checks that."""
