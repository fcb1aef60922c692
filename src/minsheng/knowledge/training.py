"""What the suggestion engine learns from, and its calibration (pure Python, no Django).

* ``data/questions.jsonl``: callers' questions written for the demo city's articles by a
  writer who read them (paraphrases, in every register), with questions no article answers.
  Every question is learned from (the old ``train``/``calibration`` split is kept in the file
  for the record); the temperature and the "answerable" gate are fitted on out-of-fold
  scores: the questions are cut into ``FOLDS`` folds (each article's questions spread over
  all), an engine is built without each fold and scores it, and the scores of every
  question, from an engine that never saw it, are what the calibration reads.
* The held-apart set (``eval/knowledge_apart.jsonl``, outside the package) is never read
  here: it only measures (``bench/knowledge_suggest.py``).

A question for an article that is not served (unpublished, expired, or a city without it) is
a question no served article answers: it is learned and calibrated as such.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from .suggest import ArticleText, Config, Gate, Parts, Suggester, blended, gate_features

DATA_DIR = Path(__file__).resolve().parent / "data"
QUESTIONS = DATA_DIR / "questions.jsonl"
SPLITS = ("train", "calibration")
# "Answerable" must be right at least this often on the out-of-fold questions (the issue's
# bar). The lowest cut-off that keeps it is taken: the most questions answered on the spot.
TARGET_PRECISION = 0.95
FOLDS = 5
MIN_CALIBRATION = 50  # fewer answerable questions: no gate, the default threshold stays
SEED = 12


def load_questions(split: str | None = None, path: Path = QUESTIONS) -> list[dict[str, Any]]:
    """The shipped questions, all of them or one split's."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [r for r in rows if split is None or r.get("split") == split]


def labelled(rows: Iterable[dict[str, Any]], served: set[str]) -> list[tuple[str, str | None]]:
    """(text, article code or None), a code that is not served counting as None."""
    return [(r["text"], r["answer"] if r.get("answer") in served else None) for r in rows]


def build_engine(
    articles: Sequence[ArticleText],
    examples: Iterable[tuple[str, str | None]] = (),
    *,
    config: Config | None = None,
    questions: Path = QUESTIONS,
    folds: int = FOLDS,
) -> Suggester:
    """The engine for ``articles``: fitted on their text, every shipped question and
    ``examples`` (e.g. a city's answered calls), then calibrated on out-of-fold scores of
    those questions."""
    served = {a.code for a in articles}
    learned = labelled(load_questions(path=questions), served) + list(examples)
    engine = Suggester.build(articles, learned, config)
    return calibrate(engine, articles, learned, folds=folds)


def fold_of(questions: Sequence[tuple[str, str | None]], folds: int, seed: int = SEED) -> np.ndarray:
    """A fold per question, each label's questions dealt round the folds in a shuffled order."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(questions), dtype=np.intp)
    by_label: dict[str | None, list[int]] = {}
    for i, (_, code) in enumerate(questions):
        by_label.setdefault(code, []).append(i)
    for members in by_label.values():
        order = rng.permutation(len(members))
        for k, j in enumerate(order):
            fold[members[j]] = k % folds
    return fold


def out_of_fold(
    articles: Sequence[ArticleText],
    questions: Sequence[tuple[str, str | None]],
    config: Config,
    folds: int,
) -> Parts:
    """Every question's raw scores and similarities from an engine built without its fold."""
    n_art = len(articles)
    raw = np.zeros((len(questions), n_art + 1))
    near = np.zeros((len(questions), n_art + 1))
    lengths = np.zeros(len(questions))
    fold = fold_of(questions, folds)
    for f in range(folds):
        held = np.flatnonzero(fold == f)
        if not len(held):
            continue
        rest = [q for q, k in zip(questions, fold, strict=True) if k != f]
        engine = Suggester.build(articles, rest, config)
        parts = engine.parts([questions[int(i)][0] for i in held])
        raw[held], near[held], lengths[held] = parts.raw, parts.near, parts.lengths
    return Parts(raw, near, lengths)


def calibrate(
    engine: Suggester,
    articles: Sequence[ArticleText],
    questions: Sequence[tuple[str, str | None]],
    *,
    folds: int = FOLDS,
) -> Suggester:
    """The temperature that best fits the out-of-fold scores (log loss of the right class,
    "no article" included), then the gate: a logistic regression on the out-of-fold
    features of the first article, predicting that it is right, and the lowest cut-off at
    which the questions it passes are right at least ``TARGET_PRECISION`` of the time."""
    n_answerable = sum(code is not None for _, code in questions)
    if n_answerable < MIN_CALIBRATION or engine.coef is None or folds < 2:
        engine.meta["calibration"] = {"n": len(questions), "skipped": True}
        return engine
    index = {a.code: i for i, a in enumerate(engine.articles)}
    n_art = len(engine.articles)
    y = np.array([index[c] if c is not None else n_art for _, c in questions])
    parts = out_of_fold(articles, questions, engine.config, folds)
    rows = np.arange(len(y))
    best_t, best_loss = engine.config.temperature, math.inf
    for t in np.exp(np.linspace(math.log(0.02), math.log(5.0), 60)):
        probs = blended(parts, float(t), engine.config.blend)
        loss = float(-np.log(np.clip(probs[rows, y], 1e-9, None)).mean())
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    scores = blended(parts, best_t, engine.config.blend)
    first = scores[:, :n_art].argmax(axis=1)
    right = first == y  # a not-answerable question is never right
    x = gate_features(Suggester._finite(parts), scores)
    meta: dict[str, Any] = {
        "n": len(questions),
        "folds": folds,
        "temperature": round(best_t, 4),
        "log_loss": round(best_loss, 4),
        "top1": round(float(right[y < n_art].mean()), 4),
    }
    if right.all() or not right.any():
        engine.meta["calibration"] = {**meta, "gate": None}
        return engine.with_config(temperature=best_t)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, right)
    prob = model.predict_proba(x)[:, 1]
    cutoff, coverage, precision = 1.0, 0.0, 1.0
    for c in np.unique(prob):
        passed = prob >= c
        if right[passed].mean() >= TARGET_PRECISION:
            cov = float((passed & (y < n_art)).sum() / max(1, (y < n_art).sum()))
            if cov > coverage:
                cutoff, coverage, precision = float(c), cov, float(right[passed].mean())
    nul = y == n_art
    tuned = engine.with_config(temperature=best_t)
    tuned.gate = Gate(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]), cutoff)
    tuned.meta = {
        **engine.meta,
        "calibration": {
            **meta,
            "cutoff": round(cutoff, 4),
            "answerable_precision": round(precision, 4),
            "answerable_coverage": round(coverage, 4),
            "none_recall": round(float((prob[nul] < cutoff).mean()), 4) if nul.any() else None,
        },
    }
    return tuned
