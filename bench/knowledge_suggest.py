"""Knowledge-base suggestions (issue 12): quality and speed of the engine.

    python bench/knowledge_suggest.py            # BENCH_ARTICLES=5000 BENCH_REPEAT=3

1. quality on the shipped questions, out of fold (every question scored by an engine
   built without it; the "answerable" gate is fitted on these same scores, so its
   precision and coverage here are in-sample for the gate), and on the set written apart
   from the articles (eval/knowledge_apart.jsonl: measured only, never tuned on);
   with the engine as shipped before this change beside it (the threshold on the top score
   fitted on the calibration split) for comparison;
2. build time and suggestion latency (one question at a time, p50/p99) with the demo
   city's 48 articles and with BENCH_ARTICLES articles (the 48 and synthetic ones made by
   recombining their titles, keywords and answers), and the apart set's figures among
   those distractors.

Pure Python (no Django, no database). Not a test: numbers go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from minsheng.knowledge import training  # noqa: E402
from minsheng.knowledge.suggest import ArticleText, Config, Suggester, evaluate  # noqa: E402

ARTICLES = int(os.environ.get("BENCH_ARTICLES", "5000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
DEMO = ROOT / "src" / "minsheng" / "knowledge" / "data" / "demo.jsonl"
APART = ROOT / "eval" / "knowledge_apart.jsonl"


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def line(name: str, s: dict) -> str:
    return (
        f"  {name:<34} n={s['n']:>4}  top-1 {pct(s['top1']):>6}  top-3 {pct(s['top3']):>6}  "
        f"not-answerable marked {pct(s['none_recall']):>6}  "
        f"answerable right {pct(s['answerable_precision']):>6}"
        f"  coverage {pct(s['answerable_coverage']):>6}"
    )


def before_engine(articles: list[ArticleText]) -> Suggester:
    """The engine as shipped before: fitted on the train split, temperature and a threshold
    on the top score (97% precision) fitted on the calibration split, old knobs."""
    served = {a.code for a in articles}
    train = training.labelled(training.load_questions("train"), served)
    cal = training.labelled(training.load_questions("calibration"), served)
    engine = Suggester.build(articles, train, Config(word_weight=1.0, blend=0.3))
    index = {a.code: i for i, a in enumerate(articles)}
    n = len(articles)
    y = np.array([index[c] if c else n for _, c in cal])
    texts = [t for t, _ in cal]
    parts = engine.parts(texts)
    best = min(
        (float(t) for t in np.exp(np.linspace(np.log(0.02), np.log(5.0), 60))),
        key=lambda t: (
            -np.log(
                np.clip(engine.with_config(temperature=t)._scores(parts)[np.arange(len(y)), y], 1e-9, None)
            ).mean()
        ),
    )
    tuned = engine.with_config(temperature=best)
    scores = tuned._scores(parts)[:, :n]
    top, top_score = scores.argmax(axis=1), scores.max(axis=1)
    threshold = 1.0
    for th in sorted(set(np.round(top_score, 4).tolist())):
        marked = top_score >= th
        if marked.any() and (top == y)[marked].mean() >= 0.97:
            threshold = th
            break
    return tuned.with_config(threshold=threshold)


def out_of_fold_scores(engine: Suggester, articles: list[ArticleText]) -> dict:
    """The shipped questions scored out of fold, through the built engine's temperature and gate."""
    questions = training.labelled(training.load_questions(), {a.code for a in articles})
    parts = training.out_of_fold(articles, questions, engine.config, training.FOLDS)
    oof = _Frozen(engine, parts, [t for t, _ in questions])
    return evaluate(oof, questions)


class _Frozen(Suggester):
    """An engine whose parts for a fixed list of texts are the out-of-fold ones."""

    def __init__(self, engine: Suggester, parts, texts):
        self.__dict__.update(engine.__dict__)
        self._fixed = (list(texts), parts)

    def parts(self, texts):
        fixed_texts, parts = self._fixed
        assert list(texts) == fixed_texts
        return parts


def synthetic(real: list[ArticleText], n: int, seed: int = 7) -> list[ArticleText]:
    """``n`` articles: the real ones and recombinations of two of them (half of one title
    and half of the other's, keywords of both, the answer's sentences interleaved)."""
    rng = random.Random(seed)
    out = list(real)
    while len(out) < n:
        a, b = rng.sample(real, 2)
        title = a.title[: max(2, len(a.title) // 2)] + b.title[len(b.title) // 2 :]
        keywords = tuple(rng.sample(a.keywords + b.keywords, min(6, len(a.keywords + b.keywords))))
        sa, sb = a.answer.split("。"), b.answer.split("。")
        answer = "。".join(x for pair in zip(sa, sb, strict=False) for x in pair if x)
        out.append(ArticleText(code=f"S{len(out):05d}", title=title, answer=answer, keywords=keywords))
    return out


def latency(engine: Suggester, texts: list[str]) -> tuple[float, float]:
    engine.suggest(texts[0])  # warm (jieba's dictionary, caches)
    times = []
    for _ in range(REPEAT):
        for t in texts:
            start = time.perf_counter()
            engine.suggest(t)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]


def main() -> None:
    real = [ArticleText.of(r) for r in rows(DEMO)]
    apart = [(r["text"], r["answer"]) for r in rows(APART)]
    texts = [t for t, _ in apart]
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} CPUs, Python {platform.python_version()}")

    print("\nquality (48 articles)")
    before = before_engine(real)
    cal = training.labelled(training.load_questions("calibration"), {a.code for a in real})
    print(line("before: calibration split", evaluate(before, cal)))
    print(line("before: apart set", evaluate(before, apart)))
    start = time.perf_counter()
    engine = training.build_engine(real)
    built = time.perf_counter() - start
    print(f"  gate fitted out of fold: {engine.meta['calibration']}")
    print(line("after: shipped questions, out of fold", out_of_fold_scores(engine, real)))
    print(line("after: apart set", evaluate(engine, apart)))
    by = {}
    for r in rows(APART):
        by.setdefault(r["register"], []).append((r["text"], r["answer"]))
    for register, items in sorted(by.items()):
        print(line(f"after: apart, {register}", evaluate(engine, items)))

    p50, p99 = latency(engine, texts)
    print(f"\nspeed, 48 articles: build {built:.1f} s (5-fold calibration included), ", end="")
    print(f"suggest p50 {p50:.1f} ms, p99 {p99:.1f} ms")

    many = synthetic(real, ARTICLES)
    start = time.perf_counter()
    big = training.build_engine(many)
    built = time.perf_counter() - start
    p50, p99 = latency(big, texts)
    print(
        f"speed, {len(many)} articles: build {built:.1f} s, suggest p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"({len(texts)} questions x {REPEAT})"
    )
    print(line(f"apart set among {len(many)} articles", evaluate(big, apart)))


if __name__ == "__main__":
    main()
