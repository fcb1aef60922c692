"""The process-wide classifier: the newest valid model version in the model folder,
picked up without a restart when ``minsheng retrain`` publishes a new one.

``RoutingConfig.ready()`` registers :func:`classify` as the classifier intake asks for a
category (``minsheng.cases.intake``); :func:`classify_text` is its answer for a text alone,
for ``minsheng classify`` and ``POST /api/v1/classify``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.conf import settings

from minsheng.catalog.models import Matter

_lock = threading.Lock()
_store: Any = None


def model_dir() -> Path:
    return Path(settings.MINSHENG_MODEL_DIR)


def store() -> Any:
    global _store
    with _lock:
        if _store is None or Path(_store.root) != model_dir():
            from minsheng.classify.store import ModelStore

            from .training import catalog_from_db

            _store = ModelStore(model_dir(), catalog=catalog_from_db(), auto_train=True)
        return _store


def classify(text: str) -> tuple[Any, float]:
    """A ``Prediction`` (code, confidence, candidates, model_version, method) and the
    confidence the model itself needs for that code (tuned on held-out data)."""
    model = store().current()
    prediction = model.predict(text)
    return prediction, float(model.threshold_for(prediction.code))


def classify_many(texts: list[str]) -> list[tuple[Any, float]]:
    """:func:`classify` for many texts in one pass of the model (batch intake)."""
    model = store().current()
    return [(p, float(model.threshold_for(p.code))) for p in model.predict_many(texts)]


def reset() -> None:
    global _store
    with _lock:
        _store = None


def classify_text(text: str) -> dict[str, Any]:
    """The classifier's answer for a text alone (no place, no duplicates). ``auto`` says
    whether the confidence reaches the threshold for zero-touch dispatch."""
    p, model_threshold = classify(text)
    matter = Matter.objects.filter(code=p.code, active=True).only("auto_threshold").first()
    city_threshold = matter.auto_threshold if matter else 1.0
    return {
        "code": p.code,
        "confidence": round(float(p.confidence), 4),
        "candidates": [{"code": c, "score": round(float(s), 4)} for c, s in p.candidates],
        "auto": p.method == "model" and float(p.confidence) >= max(city_threshold, model_threshold),
    }
