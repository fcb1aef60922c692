"""Fixed log-scale duration buckets, from which the rollups answer percentiles.

Bucket 0 holds durations under one second. Bucket ``b >= 1`` holds durations ``s`` with
``2**((b-1)/8) <= s < 2**(b/8)`` seconds: eight buckets per doubling, the last one open
(``MAX_BUCKET`` starts at about 1.9 years). A percentile is read as the geometric middle
of the bucket holding the wanted rank, ``2**((b-0.5)/8)``.

Error bound: the true value lies in the same bucket, so the reported value is off by at
most a factor ``2**(1/16)``: **at most 4.4 % relative** (``REL_ERROR``), and at most half
a second under one second. The bound is the same for one clock or a million, for a day
or a year, because histograms add exactly: the rollup and the live count give the same
answer, and summing days into months loses nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

PER_OCTAVE = 8
MAX_BUCKET = 1 + PER_OCTAVE * 25  # 2**25 s ≈ 388 days; anything longer shares the last one
REL_ERROR = 2 ** (1 / (2 * PER_OCTAVE)) - 1  # 0.0443…


def bucket_of(seconds: float) -> int:
    """The bucket of a duration (the same arithmetic as the SQL in ``measures``)."""
    if seconds < 1:
        return 0
    return min(MAX_BUCKET, 1 + math.floor(PER_OCTAVE * math.log(seconds) / math.log(2)))


def value_of(bucket: int) -> float:
    """The duration a bucket stands for, in seconds."""
    if bucket <= 0:
        return 0.5
    return 2 ** ((bucket - 0.5) / PER_OCTAVE)


def percentile(hist: Mapping[int, int], p: float) -> float | None:
    """The nearest-rank ``p``-quantile (0 < p <= 1) of the durations in ``hist``: the
    smallest duration that at least ``p`` of them do not exceed. ``None`` when empty."""
    total = sum(hist.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(p * total - 1e-9))
    seen = 0
    for b in sorted(hist):
        seen += hist[b]
        if seen >= rank:
            return value_of(b)
    return value_of(max(hist))  # pragma: no cover - unreachable, ranks never exceed total


def merge(into: dict[int, int], items: Iterable[tuple[int, int]]) -> dict[int, int]:
    for b, n in items:
        into[b] = into.get(b, 0) + n
    return into
