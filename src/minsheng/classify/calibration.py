"""Calibration of the classifier's confidence: cross-validation splits that hold out
phrasings and frames at once, temperature scaling of the SVM scores, per-matter thresholds
and the summary of the out-of-fold predictions. Pure numpy/scipy, no model in here."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from scipy.optimize import minimize_scalar


def two_way_folds(
    groups: Sequence[str], frames: Sequence[str], k: int, seed: int = 0
) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation splits that hold out phrasings and frames at once.

    Phrasing groups and frames (the register's sentence around the phrasing) are each dealt
    into ``k`` folds at random; cell (a, b) is tested by a model trained on the lines whose
    phrasing is not in fold a *and* whose frame is not in fold b. Every line is tested once,
    always on a phrasing and a frame its model never saw: that is how the held-out part of
    the corpus is built, and how a new request differs from the ones we trained on. Holding
    out phrasings only (plain GroupKFold) gave optimistic confidence and thresholds too low.
    """
    rng = np.random.default_rng(seed)

    def deal(labels: Sequence[str]) -> np.ndarray:
        names = sorted(set(labels))
        fold_of = dict(zip(names, rng.permutation(len(names)) % k, strict=True))
        return np.array([fold_of[x] for x in labels])

    pf, ff = deal(groups), deal(frames)
    for a in range(k):
        for b in range(k):
            test = np.flatnonzero((pf == a) & (ff == b))
            train = np.flatnonzero((pf != a) & (ff != b))
            if len(test) and len(train):
                yield train, test


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the log loss of softmax(scores / T) on out-of-fold
    scores (Guo et al. 2017, temperature scaling); one parameter, ranking unchanged."""
    idx = np.arange(len(y))

    def nll(log_t: float) -> float:
        p = softmax(scores, math.exp(log_t))
        return float(-np.log(np.clip(p[idx, y], 1e-12, None)).mean())

    res = minimize_scalar(nll, bounds=(math.log(0.01), math.log(10.0)), method="bounded")
    return float(math.exp(res.x))


def tune_thresholds(
    probs: np.ndarray,
    y: np.ndarray,
    classes: Sequence[str],
    floors: dict[str, float],
    target: float,
    cap: float,
) -> dict[str, float]:
    """Per matter, the lowest threshold at or above the catalog's floor at which the
    out-of-fold predictions of that matter reach ``target`` precision; ``cap`` when no
    threshold does (the matter is then hardly ever routed automatically)."""
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    out: dict[str, float] = {}
    for k, code in enumerate(classes):
        floor = floors[code]
        mask = pred == k
        conf_k, right_k = conf[mask], (y[mask] == k)
        chosen = cap
        for t in sorted({floor, *[float(c) for c in conf_k if floor <= c <= cap]}):
            sel = conf_k >= t
            if not sel.any() or right_k[sel].mean() >= target:
                chosen = t
                break
        out[code] = max(floor, math.ceil(min(chosen, cap) * 10_000) / 10_000)
    return out


def oof_summary(
    probs: np.ndarray, y: np.ndarray, classes: Sequence[str], thresholds: dict[str, float]
) -> dict:
    """Top-1, coverage and precision of out-of-fold predictions at their per-matter
    thresholds (``meta["cross_validation"]``)."""
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    th = np.array([thresholds[classes[k]] for k in pred])
    covered = conf >= th
    right = pred == y
    return {
        "n": len(y),
        "top1": round(float(right.mean()), 4),
        "coverage": round(float(covered.mean()), 4),
        "precision": round(float(right[covered].mean()), 4) if covered.any() else None,
    }


def lowest_threshold(probs: np.ndarray, y: np.ndarray, target: float, cap: float) -> float:
    """The lowest confidence at or above which the predictions reach ``target`` precision
    (``cap`` when none does): a floor under every matter's threshold, set on requests the
    model was not fitted on."""
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    right = pred == y
    for t in sorted({float(c) for c in conf if c <= cap}):
        sel = conf >= t
        if right[sel].mean() >= target:
            return math.ceil(t * 10_000) / 10_000
    return cap
