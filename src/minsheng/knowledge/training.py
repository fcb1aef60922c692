"""What the suggestion engine learns from, and its calibration (pure Python, no Django).

* ``data/questions.jsonl``: callers' questions written for the demo city's articles by a
  writer who read them (paraphrases, in every register), with questions no article answers.
  Split ``train`` (fitted on) and ``calibration`` (never fitted on: the temperature and the
  "answerable" threshold are set on it).
* The held-apart set (``eval/knowledge_apart.jsonl``, outside the package) is never read
  here: it only measures (``bench/knowledge_suggest.py``, the quality test).

A question for an article that is not served (unpublished, expired, or a city without it) is
a question no served article answers: it is learned and calibrated as such.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .suggest import ArticleText, Config, Suggester

DATA_DIR = Path(__file__).resolve().parent / "data"
QUESTIONS = DATA_DIR / "questions.jsonl"
SPLITS = ("train", "calibration")
# "Answerable" must be right at least this often on the calibration questions (the issue's
# bar is 95%; the margin absorbs the difference between calibration and new callers).
TARGET_PRECISION = 0.97
MIN_CALIBRATION = 50  # fewer answerable calibration questions: the default threshold stays


def load_questions(split: str, path: Path = QUESTIONS) -> list[dict[str, Any]]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [r for r in rows if r.get("split") == split]


def labelled(rows: Iterable[dict[str, Any]], served: set[str]) -> list[tuple[str, str | None]]:
    """(text, article code or None), a code that is not served counting as None."""
    return [(r["text"], r["answer"] if r.get("answer") in served else None) for r in rows]


def build_engine(
    articles: Sequence[ArticleText],
    examples: Iterable[tuple[str, str | None]] = (),
    *,
    config: Config | None = None,
    questions: Path = QUESTIONS,
) -> Suggester:
    """The engine for ``articles``: fitted on their text, the shipped training questions and
    ``examples`` (e.g. a city's answered calls), then calibrated on the shipped calibration
    questions."""
    served = {a.code for a in articles}
    train = labelled(load_questions("train", questions), served) + list(examples)
    engine = Suggester.build(articles, train, config)
    cal = labelled(load_questions("calibration", questions), served)
    return calibrate(engine, cal)


def calibrate(engine: Suggester, questions: Sequence[tuple[str, str | None]]) -> Suggester:
    """The temperature that best fits the calibration questions (log loss of the right
    class, "no article" included), then the lowest threshold at which the questions marked
    answerable are right at least ``TARGET_PRECISION`` of the time."""
    answerable = [(t, c) for t, c in questions if c is not None]
    if len(answerable) < MIN_CALIBRATION or engine.coef is None:
        engine.meta["calibration"] = {"n": len(questions), "skipped": True}
        return engine
    index = {a.code: i for i, a in enumerate(engine.articles)}
    n_art = len(engine.articles)
    texts = [t for t, _ in questions]
    y = np.array([index[c] if c is not None else n_art for _, c in questions])
    best_t, best_loss = engine.config.temperature, math.inf
    for t in np.exp(np.linspace(math.log(0.02), math.log(5.0), 60)):
        probs = engine.with_config(temperature=float(t)).scores(texts)
        loss = float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-9, None)).mean())
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    tuned = engine.with_config(temperature=best_t)
    scores = tuned.scores(texts)[:, :n_art]
    top = scores.argmax(axis=1)
    top_score = scores.max(axis=1)
    right = top == y
    threshold = 1.0
    for th in sorted(set(np.round(top_score, 4).tolist())):
        marked = top_score >= th
        if marked.any() and right[marked].mean() >= TARGET_PRECISION:
            threshold = float(th)
            break
    tuned = tuned.with_config(threshold=threshold)
    tuned.meta = {
        **engine.meta,
        "calibration": {
            "n": len(questions),
            "temperature": round(best_t, 4),
            "threshold": round(threshold, 4),
            "log_loss": round(best_loss, 4),
        },
    }
    return tuned


def with_threshold(engine: Suggester, threshold: float) -> Suggester:
    return replace(engine, config=replace(engine.config, threshold=threshold))
