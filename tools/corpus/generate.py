"""Deterministic generator of the cold-start corpus for the classifier of the list of matters
(事项清单): ``minsheng/classify/corpus/train.jsonl`` and ``heldout.jsonl``.

Why a generator and not a hand-typed file: a city has no labelled requests on day one, and
2,000+ hand-typed lines are hard to review and to keep balanced. Here every matter has
hand-written pools of phrasings (``matters/``: a resident's words, a grid worker's terse
words, a formal letter's words, consequences, sensor alarm texts) and every register (phone
transcript, grid worker, delivery rider, enterprise letter, resident's complaint, sensor)
has its own frames (``registers.py``). A seeded RNG combines them with the demo city's places
(``places.py``, read from the demo city's data; ``slots.py``) and adds the noise of each
register (``noise.py``): filler words of phone calls (那个、就是、嗯), homophone typos of
speech recognition and pinyin input (井盖→景盖, 路灯→露灯), traditional characters, emoji.

Honest evaluation: the held-out part is written with words the training part never saw.
Many concepts of a matter come as a group of paraphrases; the last paraphrase of each group
is held out (same concept, other words), and every fifth concept that has a single
phrasing is held out whole (a concept the model never saw). Every fourth frame of a
register is held out too, and so is one typo variant of each misspelt word. Pools too small
to spare a phrasing are shared, the frame then still differs (``compose.py``).

Run ``python -m tools.corpus.generate`` from the repository root to rewrite ``train.jsonl``
and ``heldout.jsonl``; ``--check`` only verifies that the committed files match.
"""

from __future__ import annotations

import argparse
import json
import sys

from minsheng.classify.model import CORPUS_DIR

from .compose import Composer
from .matters import MATTERS

SEED = "minsheng-classify-corpus-v1"
TRAIN_PATH = CORPUS_DIR / "train.jsonl"
HELDOUT_PATH = CORPUS_DIR / "heldout.jsonl"
N_TRAIN = 70  # lines per matter in train.jsonl
N_HELDOUT = 18  # lines per matter in heldout.jsonl (about 20% of the whole)
TRADITIONAL_TRAIN = 4  # of the lines above, how many are rewritten in traditional characters
TRADITIONAL_HELDOUT = 1


def build() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Both parts, deterministic. A held-out line never equals a training line.

    Each line also carries ``group``: the matter and the phrasing it is built on (e.g.
    ``road.damage/say7``), and ``frame``: the register's sentence around it (``phone3``).
    Training folds hold out both, so that calibration and threshold tuning judge the model
    on wordings it did not see, as the held-out part does."""
    train: list[dict[str, str]] = []
    heldout: list[dict[str, str]] = []
    seen: set[str] = set()
    for m in MATTERS:
        for part, n, n_trad, out in (
            ("train", N_TRAIN, TRADITIONAL_TRAIN, train),
            ("heldout", N_HELDOUT, TRADITIONAL_HELDOUT, heldout),
        ):
            c = Composer(m, part, SEED)
            lines: list[dict[str, str]] = []
            attempts = 0
            while len(lines) < n and attempts < n * 50:
                attempts += 1
                text, reg, group, frame = c.traditional() if len(lines) < n_trad else c.line()
                if text in seen:
                    continue
                seen.add(text)
                lines.append(
                    {
                        "text": text,
                        "code": m.code,
                        "register": reg,
                        "group": f"{m.code}/{group}",
                        "frame": frame,
                    }
                )
            if len(lines) < n:
                raise RuntimeError(f"{m.code}/{part}: only {len(lines)} distinct lines")
            out.extend(lines)
    return train, heldout


def _dump(rows: list[dict[str, str]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only verify the committed files")
    args = parser.parse_args(argv)
    train, heldout = build()
    files = {TRAIN_PATH: _dump(train), HELDOUT_PATH: _dump(heldout)}
    if args.check:
        stale = [
            p.name for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text
        ]
        if stale:
            print(f"stale: {', '.join(stale)}; run python -m tools.corpus.generate")
            return 1
        print("corpus files are up to date")
        return 0
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print(f"train: {len(train)} lines, held-out: {len(heldout)} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
