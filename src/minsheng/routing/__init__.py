"""Routing (智能分拨): classify the request text, place it, find duplicates, and decide
whether the case can go to its unit with no human step."""
