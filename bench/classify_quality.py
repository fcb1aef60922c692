"""How good and how fast is the classifier of the list of matters (事项清单)?

Why: automatic routing (zero-touch dispatch) is only safe when the confidence means what it
says; a dispatcher must see the rest. This trains the default model from the shipped
corpus, as an empty ``ModelStore`` does on first use, and measures on the held-out part
(never trained on):

1. top-1 / top-3 accuracy, per register (phone, grid worker, rider, letter, sensor, …);
2. coverage (share routed automatically) and precision among those, at the catalog's
   flat ``auto_threshold``, at the classifier's own floor, and at the per-matter
   thresholds the training tuned;
3. a threshold sweep and a reliability table (is "0.9" right nine times in ten?);
4. the worst confusion pairs;
5. p50 / p99 / max latency of one ``predict`` call, of ``predict_many`` per text, and of
   loading a published version; training time, cold (new process: imports included) and
   warm;
6. the keyword-rule fallback on the same texts, for comparison.

Results go into docs/classify.md by hand, with the machine they ran on.

    .venv/bin/python bench/classify_quality.py
    .venv/bin/python bench/classify_quality.py --repeat 5 --json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict

import numpy as np

COLD_TRAIN = """
import time
t = time.perf_counter()
from minsheng.classify import Classifier
Classifier.train(use_corpus=True)
print(time.perf_counter() - t)
"""


def pct(x: float | None) -> str:
    return "  n/a " if x is None else f"{100 * x:5.1f}%"


def latency(fn, items, repeat: int, clock=time.perf_counter) -> np.ndarray:
    """Milliseconds per call. ``clock=time.thread_time`` counts this thread's CPU time
    only: on a shared machine the wall clock also counts time other processes held the CPU."""
    for it in items[:50]:  # warm-up
        fn(it)
    out = []
    for _ in range(repeat):
        for it in items:
            s = clock()
            fn(it)
            out.append(clock() - s)
    return np.array(out) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="passes over the held-out texts for latency")
    ap.add_argument("--json", action="store_true", help="also print the raw numbers as JSON")
    args = ap.parse_args()

    from minsheng.classify import (
        Classifier,
        KeywordClassifier,
        ModelStore,
        evaluate,
        load_catalog,
        load_corpus,
    )

    catalog = load_catalog()
    flat = float(catalog["defaults"]["auto_threshold"])
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")

    started = time.perf_counter()
    model = Classifier.train(catalog=catalog)
    warm_train = time.perf_counter() - started
    cold = subprocess.run([sys.executable, "-c", COLD_TRAIN], capture_output=True, text=True, check=True)
    cold_train = float(cold.stdout.strip().splitlines()[-1])

    rows = load_corpus("heldout")
    pairs = [(r["text"], r["code"]) for r in rows]
    texts = [t for t, _ in pairs]
    per = evaluate(model, pairs)
    at_flat = evaluate(model, pairs, threshold=flat)
    own = model.default_threshold
    at_own = evaluate(model, pairs, threshold=own)
    print(
        f"\ncorpus: {len(load_corpus('train'))} training lines, {len(rows)} held-out lines, "
        f"{len(model.classes)} matters"
    )
    print(
        f"training: {warm_train:.2f} s in a warm process, {cold_train:.2f} s in a new one (imports included)"
    )
    print(f"cross-validation on training (phrasing × frame held out): {model.meta['cross_validation']}")
    print("\nheld-out")
    print(f"  top-1 {pct(per['top1'])}   top-3 {pct(per['top3'])}   ECE {per['ece']:.3f}")
    print(
        f"  flat threshold {flat}:        coverage {pct(at_flat['coverage'])}  "
        f"precision {pct(at_flat['precision'])}"
    )
    print(
        f"  classifier floor {own}:      coverage {pct(at_own['coverage'])}  "
        f"precision {pct(at_own['precision'])}"
    )
    print(f"  per-matter thresholds:     coverage {pct(per['coverage'])}  precision {pct(per['precision'])}")
    raised = {c: t for c, t in model.thresholds.items() if t > own}
    print(f"  per-matter thresholds raised above {own}: {raised or 'none'}")

    preds = model.predict_many(texts)
    by_reg: dict[str, list[bool]] = defaultdict(list)
    for r, p in zip(rows, preds, strict=True):
        by_reg[r["register"]].append(p.code == r["code"])
    print(
        "\n  top-1 by register: "
        + ", ".join(f"{k} {pct(float(np.mean(v)))} (n={len(v)})" for k, v in sorted(by_reg.items()))
    )

    conf = np.array([p.confidence for p in preds])
    right = np.array([p.code == c for p, (_, c) in zip(preds, pairs, strict=True)])
    print("\n  threshold sweep (flat):")
    for t in (0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99):
        sel = conf >= t
        prec = float(right[sel].mean()) if sel.any() else None
        print(f"    ≥{t:<4}  coverage {pct(float(sel.mean()))}  precision {pct(prec)}")
    print("\n  reliability (confidence bin → observed accuracy, n):")
    edges = [0, 0.3, 0.5, 0.7, 0.85, 0.95, 1.0001]
    for lo, hi in itertools.pairwise(edges):
        sel = (conf >= lo) & (conf < hi)
        if sel.any():
            print(
                f"    [{lo:.2f}, {min(hi, 1):.2f})  mean conf {conf[sel].mean():.3f}  "
                f"accuracy {right[sel].mean():.3f}  n={sel.sum()}"
            )
    print("\n  worst confusions (true → predicted, count):")
    for t, p, n in per["confusion"]:
        print(f"    {t:24s} → {p:24s} {n}")

    one = latency(model.predict, texts, args.repeat)
    one_cpu = latency(model.predict, texts, args.repeat, clock=time.thread_time)
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    batch_start = time.perf_counter()
    model.predict_many(texts)
    batch_ms = (time.perf_counter() - batch_start) * 1000 / len(texts)
    long_text = "喂你好，胜利路的路灯不亮了，" + "那个就是说，" * 4000
    long_ms = latency(model.predict, [long_text] * 20, 1)
    with tempfile.TemporaryDirectory() as d:
        store = ModelStore(d)
        store.publish(model)
        load_ms = latency(lambda _: store.load("v0001"), [0] * 10, 1)
        size_kb = sum(f.stat().st_size for f in (store.root / "v0001").iterdir()) / 1024
    print(f"\nspeed (load average {load_avg:.1f} on {os.cpu_count()} CPUs while measuring)")
    print(
        f"  predict one text: p50 {np.percentile(one, 50):.3f} ms, p99 {np.percentile(one, 99):.3f} ms, "
        f"max {one.max():.3f} ms (n={len(one)}), wall clock"
    )
    print(
        f"  predict one text: p50 {np.percentile(one_cpu, 50):.3f} ms, "
        f"p99 {np.percentile(one_cpu, 99):.3f} ms, max {one_cpu.max():.3f} ms, CPU time of the thread"
    )
    print(
        f"  predict_many: {batch_ms:.3f} ms per text; "
        f"a 24,000-character text: p50 {np.percentile(long_ms, 50):.3f} ms"
    )
    print(f"  load a published version: p50 {np.percentile(load_ms, 50):.1f} ms; files {size_kb:.0f} KiB")

    kc = KeywordClassifier(catalog)
    kw = evaluate(kc, pairs)
    no_kw = sum(1 for p in kc.predict_many(texts) if p.confidence == 0.0)
    print("\nkeyword fallback on the same texts")
    print(
        f"  top-1 {pct(kw['top1'])}, top-3 {pct(kw['top3'])}, no keyword at all in {pct(no_kw / len(texts))}"
        " (never routed automatically: confidence ≤ 0.6)"
    )

    if args.json:
        print(
            json.dumps(
                {
                    "heldout_per_matter": {k: v for k, v in per.items() if k != "per_code"},
                    "heldout_catalog_threshold": {k: v for k, v in at_flat.items() if k != "per_code"},
                    "heldout_classifier_floor": {k: v for k, v in at_own.items() if k != "per_code"},
                    "train_seconds": {"warm": round(warm_train, 2), "cold": round(cold_train, 2)},
                    "predict_ms": {
                        "p50": float(np.percentile(one, 50)),
                        "p99": float(np.percentile(one, 99)),
                        "cpu_p99": float(np.percentile(one_cpu, 99)),
                    },
                    "keywords": {"top1": kw["top1"], "top3": kw["top3"]},
                    "registers": {k: round(float(np.mean(v)), 4) for k, v in by_reg.items()},
                    "thresholds": model.thresholds,
                    "per_code": per["per_code"],
                    "confusion_counts": Counter({f"{t}>{p}": n for t, p, n in per["confusion"]}),
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
