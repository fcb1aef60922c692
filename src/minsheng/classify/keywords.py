"""Keyword rules from the list of matters (事项清单): a feature block for the model, and the
classifier of last resort when no trained model can be loaded.

Why keep rules next to a model: the catalog's keywords are the city's own words for each
matter, and they exist from day one, before any model is trained or when its file is
broken. A keyword answer is honest about being weak: its confidence never reaches an
automatic-routing threshold, so such cases wait for a dispatcher.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .text import has_signal, normalize

DEMO_CATALOG = Path(__file__).resolve().parents[1] / "catalog" / "data" / "catalog.json"
FALLBACK_CODE = "other.consult"
DEFAULT_AUTO_THRESHOLD = 0.85
# The keyword classifier's best confidence: below any sensible auto threshold on purpose.
KEYWORD_MAX_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Prediction:
    """One answer of a classifier.

    ``confidence`` is the calibrated probability that ``code`` is right; ``candidates`` are
    up to three (code, probability) pairs, best first (only the fallback code when the text
    carries no signal); ``method`` says whether a trained model ("model") or the catalog's
    keyword rules ("keywords") answered.
    """

    code: str
    confidence: float
    candidates: list[tuple[str, float]]
    model_version: str
    method: str


def load_catalog(path: str | Path = DEMO_CATALOG) -> dict[str, Any]:
    """The list of matters as a plain dict (the JSON file's shape), without Django."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def catalog_matters(catalog: dict[str, Any] | Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    matters = catalog.get("matters", []) if isinstance(catalog, dict) else list(catalog)
    return [m for m in matters if isinstance(m, dict) and isinstance(m.get("code"), str) and m["code"]]


def catalog_thresholds(catalog: dict[str, Any]) -> tuple[float, dict[str, float]]:
    """The default auto threshold and per-matter overrides written in the catalog."""
    defaults = catalog.get("defaults", {}) if isinstance(catalog, dict) else {}
    default = float(defaults.get("auto_threshold", DEFAULT_AUTO_THRESHOLD))
    per = {m["code"]: float(m["auto_threshold"]) for m in catalog_matters(catalog) if "auto_threshold" in m}
    return default, per


class KeywordRules:
    """Every matter's keywords, normalised like request texts, with a per-matter score:
    the summed length of the keywords found (a longer keyword is more specific)."""

    def __init__(self, catalog: dict[str, Any] | Sequence[dict[str, Any]]):
        self.codes: list[str] = []
        self.keywords: list[list[str]] = []
        for m in catalog_matters(catalog):
            words = {normalize(k) for k in m.get("keywords", []) if isinstance(k, str)}
            self.codes.append(m["code"])
            self.keywords.append(sorted(w for w in words if w))

    def scores(self, normalized: str) -> np.ndarray:
        out = np.zeros(len(self.codes), dtype=np.float64)
        if not normalized:
            return out
        for i, words in enumerate(self.keywords):
            for w in words:
                if w in normalized:
                    out[i] += len(w)
        return out

    def matrix(self, normalized_texts: Iterable[str]) -> np.ndarray:
        """Feature block for the model: log-damped keyword scores, one column per matter."""
        rows = [self.scores(t) for t in normalized_texts]
        if not rows:
            return np.zeros((0, len(self.codes)))
        return np.log1p(np.vstack(rows))


class KeywordClassifier:
    """The classifier of last resort: keyword rules only, confidence at most
    ``KEYWORD_MAX_CONFIDENCE`` so that nothing is routed automatically on keywords alone."""

    method = "keywords"

    def __init__(self, catalog: dict[str, Any] | None = None, version: str | None = None):
        catalog = catalog if catalog is not None else load_catalog()
        self.rules = KeywordRules(catalog)
        cat_version = catalog.get("version", "catalog") if isinstance(catalog, dict) else "catalog"
        self.version = version or f"keywords-{cat_version}"
        codes = self.rules.codes
        self.fallback = FALLBACK_CODE if FALLBACK_CODE in codes or not codes else codes[-1]

    def threshold_for(self, code: str) -> float:
        return 1.0

    def accepts(self, prediction: Prediction) -> bool:
        return False

    def predict(self, text: object) -> Prediction:
        norm = normalize(text)
        scores = self.rules.scores(norm) if has_signal(norm) else np.zeros(len(self.rules.codes))
        total = float(scores.sum())
        if total <= 0:
            return Prediction(self.fallback, 0.0, [(self.fallback, 0.0)], self.version, self.method)
        order = np.argsort(-scores, kind="stable")[:3]
        cands = [
            (self.rules.codes[i], round(KEYWORD_MAX_CONFIDENCE * float(scores[i]) / total, 4))
            for i in order
            if scores[i] > 0
        ]
        return Prediction(cands[0][0], cands[0][1], cands, self.version, self.method)

    def predict_many(self, texts: Iterable[object]) -> list[Prediction]:
        return [self.predict(t) for t in texts]
