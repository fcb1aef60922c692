"""Retraining the classifier from the city's own cases, published only when it is no worse
where it counts: on requests it never learned from.

Two held-apart sets judge a new model against the one in service: the shipped requests
written apart from everything the model learns from (``classify/corpus/apart.jsonl``), and,
once the city has ``CITY_HOLDBACK_MIN`` labelled cases, every tenth of them (by case id, so
the same cases stay held back from one retraining to the next), which are never trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from minsheng.classify import Classifier, evaluate, load_corpus

from . import classifier
from .training import catalog_from_db, city_examples

CITY_HOLDBACK_MIN = 50  # fewer labelled cases: all are trained on, the shipped set judges alone
TOLERANCE = 0.005  # half a point: noise on a few hundred requests, not a worse model


@dataclass
class RetrainReport:
    examples: int
    held_back: int
    before: dict[str, dict[str, Any]]
    after: dict[str, dict[str, Any]]
    published: str | None = None
    worse: list[str] = field(default_factory=list)
    heldout: dict[str, Any] = field(default_factory=dict)  # the new model's, on the generated held-out part

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.published,
            "examples": self.examples,
            "held_back": self.held_back,
            "before": self.before,
            "after": self.after,
            "worse": self.worse,
            "heldout": self.heldout,
        }


def _scores(model: Any, sets: dict[str, list[tuple[str, str]]]) -> dict[str, dict[str, Any]]:
    keep = ("n", "top1", "top3", "coverage", "precision")
    return {
        name: {k: v for k, v in evaluate(model, pairs).items() if k in keep} for name, pairs in sets.items()
    }


def _worse(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[str]:
    """What got worse by more than ``TOLERANCE``: top-1, and the precision of what goes alone."""
    out = []
    for name, b in before.items():
        a = after[name]
        for key in ("top1", "precision"):
            if b.get(key) is not None and (a.get(key) is None or a[key] < b[key] - TOLERANCE):
                out.append(f"{name} {key} {b[key]:.4f} → {a.get(key)}")
    return out


def retrain(*, force: bool = False, keep: int = 5) -> RetrainReport:
    """Train on the shipped corpus and the city's cases (less the held-back tenth), score the
    new model and the one in service on the held-apart sets, and publish the new one unless
    it is worse there (``force`` publishes it anyway)."""
    labelled = city_examples()
    hold = len(labelled) >= CITY_HOLDBACK_MIN
    trained = [(t, c) for pk, t, c in labelled if not (hold and pk % 10 == 0)]
    held = [(t, c) for pk, t, c in labelled if hold and pk % 10 == 0]
    sets = {"apart": [(r["text"], r["code"]) for r in load_corpus("apart")]}
    if held:
        sets["city"] = held
    model = Classifier.train(trained, catalog_from_db())
    store = classifier.store()
    before = _scores(store.current(), sets)
    after = _scores(model, sets)
    report = RetrainReport(
        len(trained),
        len(held),
        before,
        after,
        worse=_worse(before, after),
        heldout=model.meta.get("heldout", {}),
    )
    if report.worse and not force:
        return report
    report.published = store.publish(model)
    store.prune(keep=keep)
    return report
