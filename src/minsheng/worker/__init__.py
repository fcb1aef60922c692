"""The background worker: clocks that act, and the outbox delivered."""
