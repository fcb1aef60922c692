"""The process-wide classifier: the newest valid model version in the model folder,
picked up without a restart when ``minsheng retrain`` publishes a new one."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.conf import settings

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


def reset() -> None:
    global _store
    with _lock:
        _store = None
