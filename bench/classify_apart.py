"""How does the classifier do on requests it never saw the like of? (issue #13)

The held-apart requests (``classify/corpus/apart.jsonl``, 553 lines in eight registers) were
written by a writer briefed only with the list of matters and the registers, never the
corpus, its generator or the other written parts; nothing is fitted or tuned on them. This
trains, in the same run, the model as it was before (generated corpus only, C 0.5,
confidence from out-of-fold scores of generated text) and the model as shipped (plus the
written requests, confidence from the calibration requests), and prints for each on the
held-apart set:

1. top-1 / top-3, and top-1 counting an item's noted second code (``alt``) as right;
2. coverage (routed with no human step) and its precision at the model's thresholds;
3. top-1 and coverage/precision per register;
4. the reliability curve (confidence bin → observed accuracy);
5. the ten worst confusions;
then the shipped model's training time and the latency of one prediction.

    .venv/bin/python bench/classify_apart.py [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np


def pct(x: float | None) -> str:
    return "  n/a " if x is None else f"{100 * x:5.1f}%"


def report(name: str, model, rows: list[dict]) -> dict:
    from minsheng.classify import evaluate

    pairs = [(r["text"], r["code"]) for r in rows]
    scores = evaluate(model, pairs, worst=10)
    preds = model.predict_many([t for t, _ in pairs])
    conf = np.array([p.confidence for p in preds])
    right = np.array([p.code == r["code"] for p, r in zip(preds, rows, strict=True)])
    right_alt = np.array([p.code in (r["code"], r.get("alt")) for p, r in zip(preds, rows, strict=True)])
    th = np.array([model.threshold_for(p.code) for p in preds])
    alone = conf >= th
    print(f"\n== {name}")
    print(
        f"  top-1 {pct(scores['top1'])}  top-3 {pct(scores['top3'])}  top-1 with the noted second code "
        f"{pct(float(right_alt.mean()))}  ECE {scores['ece']:.3f}"
    )
    print(f"  routed alone {pct(scores['coverage'])} at precision {pct(scores['precision'])} (n={len(rows)})")
    by_reg: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_reg[r["register"]].append(i)
    print("  by register: top-1 / routed alone / precision alone")
    registers = {}
    for reg, idx in sorted(by_reg.items()):
        sel = alone[idx]
        prec = float(right[idx][sel].mean()) if sel.any() else None
        registers[reg] = {
            "n": len(idx),
            "top1": float(right[idx].mean()),
            "alone": float(sel.mean()),
            "precision": prec,
        }
        print(
            f"    {reg:11s} n={len(idx):3d}  {pct(float(right[idx].mean()))}  "
            f"{pct(float(sel.mean()))}  {pct(prec)}"
        )
    print("  reliability (confidence bin → accuracy, n):")
    curve = []
    for lo, hi in itertools.pairwise([0, 0.3, 0.5, 0.7, 0.85, 0.95, 0.99, 1.0001]):
        sel = (conf >= lo) & (conf < hi)
        if sel.any():
            curve.append(
                (lo, min(hi, 1.0), float(conf[sel].mean()), float(right[sel].mean()), int(sel.sum()))
            )
            print(
                f"    [{lo:.2f}, {min(hi, 1):.2f})  mean conf {conf[sel].mean():.3f}  "
                f"accuracy {right[sel].mean():.3f}  n={sel.sum()}"
            )
    wrong_alone = Counter(
        (r["code"], p.code) for p, r, a in zip(preds, rows, alone, strict=True) if a and p.code != r["code"]
    )
    print("  worst confusions (true → predicted, count; of them routed alone):")
    for t, p, n in scores["confusion"]:
        print(f"    {t:24s} → {p:24s} {n}  ({wrong_alone[(t, p)]} alone)")
    return {k: v for k, v in scores.items() if k != "per_code"} | {
        "top1_with_alt": float(right_alt.mean()),
        "registers": registers,
        "reliability": curve,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="also print the raw numbers as JSON")
    args = ap.parse_args()

    from minsheng.classify import Classifier, Config, load_catalog, load_corpus

    catalog = load_catalog()
    rows = load_corpus("apart")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    before_cfg = replace(Config(), written=False, C=0.5, min_calibration=10**9)
    before = Classifier.train(catalog=catalog, config=before_cfg)
    started = time.perf_counter()
    after = Classifier.train(catalog=catalog)
    train_s = time.perf_counter() - started
    out = {
        "before": report(
            "before: generated corpus only, confidence from its out-of-fold scores", before, rows
        ),
        "after": report(
            "after (shipped): + written requests, confidence from the calibration requests", after, rows
        ),
    }
    texts = [r["text"] for r in rows]
    for t in texts[:50]:
        after.predict(t)
    lat = []
    for t in texts * 3:
        s = time.perf_counter()
        after.predict(t)
        lat.append((time.perf_counter() - s) * 1000)
    print(
        f"\nshipped model: training {train_s:.1f} s (cross-validation and calibration included); "
        "one prediction "
        f"p50 {np.percentile(lat, 50):.2f} ms, p99 {np.percentile(lat, 99):.2f} ms (n={len(lat)})"
    )
    print(
        f"  calibration: {after.meta['cross_validation'].get('calibration')}, "
        f"temperature {after.meta['temperature']}"
    )
    out["train_seconds"] = round(train_s, 1)
    out["predict_ms"] = {"p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99))}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
