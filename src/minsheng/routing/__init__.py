"""Routing (智能分拨): the text classifier's Django side. The decision at intake (place,
category, duplicates, owner, zero-touch) is ``minsheng.cases.intake``; this part plugs the
classifier into it."""
