"""Composition: one line of the corpus from a matter's pools, a register's frame, slots and
noise. Which phrasings and frames a part (train or held-out) may use is decided here, so
that the held-out part is written with words the training part never saw."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from .matter import Matter
from .noise import EMOJI, FILLERS, TYPOS, to_traditional
from .places import COMPANY_TRADES, SURNAMES
from .registers import (
    DEPTS,
    DURS,
    E_CLOSE,
    E_IMPACT,
    E_OPEN,
    FRAMES,
    G_PREFIX,
    G_SUFFIX,
    GEN_ASKS,
    GREETS,
    L_CLOSE,
    L_OPEN,
    NEAR,
    PHONE_INTROS,
    PHONE_OUTROS,
    R_IMPACT,
    R_INTRO,
    R_OUTRO,
    RES_INTROS,
    RES_OUTROS,
    TIMES,
    WHO,
)
from .slots import ADDRESS, fill


def _split(pool: Sequence[str | tuple[str, ...]], part: str, every: int = 5) -> list[str]:
    """Which phrasings a part may use. A paraphrase group (tuple) gives its last wording to
    the held-out part and the others to training: same concept, words never seen. Of the
    single phrasings every ``every``-th is held out: a concept the model never saw. A pool
    too small to spare any serves both parts."""
    train: list[str] = []
    held: list[str] = []
    singles = sum(isinstance(x, str) for x in pool)
    i = 0
    for x in pool:
        if isinstance(x, tuple):
            train.extend(x[:-1])
            held.append(x[-1])
            continue
        if singles >= every and i % every == every - 1:
            held.append(x)
        else:
            train.append(x)
        i += 1
    if part == "heldout":
        return held or train
    return train


def _typo_pool(word: str, part: str) -> list[str]:
    variants = TYPOS[word]
    if len(variants) < 2:
        return variants
    return variants[-1:] if part == "heldout" else variants[:-1]


class Composer:
    """Builds lines for one matter and one part (train or held-out) with its own RNG."""

    def __init__(self, m: Matter, part: str, seed: str):
        self.m = m
        self.part = part
        self.r = random.Random(f"{seed}:{m.code}:{part}")  # noqa: S311 - a reproducible corpus, not secrets
        self.say = _split(m.say, part)
        self.terse = _split(m.terse, part) if m.terse else []
        self.formal = _split(m.formal, part) if m.formal else []
        self.impact = _split(m.impact, part) if m.impact else []
        self.sensor = _split(m.sensor, part) if m.sensor else []
        self.frames = {reg: _split(frames, part, every=4) for reg, frames in FRAMES.items()}
        self.regs = dict(m.regs)
        if not self.sensor:
            self.regs.pop("sensor", None)
        if not self.formal:
            self.regs.pop("enterprise", None)
            self.regs.pop("letter", None)

    # -- helpers ------------------------------------------------------------------------
    def pick(self, pool: list[str]) -> str:
        return fill(self.r.choice(pool), self.r)

    def addr(self) -> str:
        return ADDRESS[self.r.choice(self.m.loc)](self.r)

    def place(self, addr: str) -> str:
        if not addr:
            return ""
        near = "" if addr.endswith(("里", "上", "口", "边", "下", "附近")) else self.r.choice(NEAR)
        return addr + near + self.r.choice(["，", "", "，"])

    def impact_text(self) -> str:
        return self.pick(self.impact) if self.impact else self.pick(["实在没办法了", "希望能解决", "麻烦了"])

    def ask_text(self) -> str:
        pool = GEN_ASKS + self.m.ask * 2 if self.m.ask else GEN_ASKS
        return self.pick(pool)

    def pick_i(self, pool: list[str]) -> tuple[int, str]:
        """A phrasing and its position, which names the line's group (see ``build``)."""
        i = self.r.randrange(len(pool))
        return i, fill(pool[i], self.r)

    def two_says(self) -> tuple[int, str, str]:
        i, a = self.pick_i(self.say)
        j = self.r.randrange(len(self.say))
        if j == i and len(self.say) > 1:
            j = (j + 1) % len(self.say)
        return i, a, fill(self.say[j], self.r)

    # -- one line -------------------------------------------------------------------------
    def line(self) -> tuple[str, str, str, str]:
        """(text, register, group): the group names the phrasing the line is built on."""
        regs = list(self.regs)
        reg = self.r.choices(regs, weights=[self.regs[x] for x in regs])[0]
        if reg == "sensor":
            i, text = self.pick_i(self.sensor)
            return text, "sensor", f"sensor{i}", f"{self.m.code}/sensor{i}"
        addr = self.addr()
        i, say, say2 = self.two_says()
        group = f"say{i}"
        fields = {
            "addr": addr or self.pick(["{town}", "{community}"]),
            "place": self.place(addr),
            "say": say,
            "say2": say2,
            "impact": self.impact_text(),
            "ask": self.ask_text(),
            "time": self.r.choice(TIMES),
            "dur": self.r.choice(DURS),
            "near": self.r.choice(NEAR),
        }
        frames = self.frames[reg]
        if not addr:  # frames that need a real address read badly without one
            frames = [f for f in frames if "{addr}" not in f] or frames
        frame = self.r.choice(frames)
        if reg == "phone":
            fields |= {
                "greet": self.r.choice(GREETS),
                "intro": self.pick(PHONE_INTROS),
                "outro": self.r.choice(PHONE_OUTROS),
                "who": self.pick(WHO),
            }
        elif reg == "resident":
            fields |= {"intro": self.pick(RES_INTROS), "outro": self.r.choice(RES_OUTROS)}
        elif reg == "grid":
            terse_pool = self.terse or self.say
            i, terse = self.pick_i(terse_pool)
            fields |= {
                "gprefix": self.pick(G_PREFIX),
                "gsuffix": self.r.choice(G_SUFFIX),
                "terse": terse,
                "terse2": self.pick(terse_pool),
            }
            if "{terse}" in frame:
                group = f"terse{i}" if self.terse else f"say{i}"
            if not addr:
                fields["addr"] = self.pick(["{town}", "{community}", "{village}"])
        elif reg == "rider":
            fields |= {
                "rintro": self.r.choice(R_INTRO),
                "rimpact": self.r.choice(R_IMPACT),
                "routro": self.r.choice(R_OUTRO),
                "surname": self.r.choice(SURNAMES),
            }
            if self.terse and self.r.random() < 0.3:
                i, fields["say"] = self.pick_i(self.terse)
                group = f"terse{i}"
        elif reg == "enterprise":
            i, formal = self.pick_i(self.formal)
            group = f"formal{i}"
            fields |= {
                "eopen": self.pick(E_OPEN),
                "eclose": self.pick(E_CLOSE),
                "company": fill("{company}", self.r),
                "eaddr": ADDRESS["company"](self.r),
                "formal": formal,
                "eimpact": self.r.choice(E_IMPACT),
                "dept": self.r.choice(DEPTS),
                "contact": fill(
                    self.r.choice(["联系人：{surname}经理，电话{phone}。", "联系人：{surname}总。", ""]),
                    self.r,
                ),
                "trade": self.r.choice(COMPANY_TRADES),
            }
        elif reg == "letter":
            i, formal = self.pick_i(self.formal)
            group = f"formal{i}"
            fields |= {
                "lopen": self.pick(L_OPEN),
                "lclose": self.r.choice(L_CLOSE),
                "formal": formal,
                "dept": self.r.choice(DEPTS),
            }
        text = frame.format(**fields)
        return self.noise(text, reg), reg, group, f"{reg}{FRAMES[reg].index(frame)}"

    # -- noise ----------------------------------------------------------------------------
    def typos(self, text: str, p: float) -> str:
        for word in TYPOS:
            if word in text and self.r.random() < p:
                text = text.replace(word, self.r.choice(_typo_pool(word, self.part)), 1)
        return text

    def fillers(self, text: str, p: float) -> str:
        parts = re.split(r"(，)", text)
        out = []
        for piece in parts:
            out.append(piece)
            if piece == "，" and self.r.random() < p:
                out.append(self.r.choice(FILLERS) + self.r.choice(["，", "", "…"]))
        return "".join(out)

    def noise(self, text: str, reg: str) -> str:
        r = self.r
        if reg == "phone":
            text = self.fillers(text, 0.35)
            if r.random() < 0.3:
                text = r.choice(FILLERS) + "，" + text
            text = self.typos(text, 0.3)
            if r.random() < 0.15:  # a transcript without punctuation
                text = re.sub(r"[，。？！]", " ", text).strip()
        elif reg == "rider":
            text = self.typos(text, 0.15)
            if r.random() < 0.4:
                text = re.sub(r"[，。]", " ", text).strip()
        elif reg == "resident":
            text = self.typos(text, 0.05)
            if r.random() < 0.08:
                text = text + r.choice(EMOJI) * r.randint(1, 3)
            if r.random() < 0.05:
                text = text.replace("！", "！！！")
        elif reg == "grid" and r.random() < 0.1:
            text = text.replace("，", " ")
        return re.sub(r"，，+", "，", text).replace("。。", "。")

    def traditional(self) -> tuple[str, str, str, str]:
        """A message typed in traditional characters (a Taiwanese or Hong Kong investor, an
        older resident whose phone is set to traditional input). Phone transcripts are
        written by the hotline's own system, in simplified characters, so none here."""
        regs = {k: v for k, v in self.regs.items() if k in ("resident", "enterprise", "letter")}
        reg = "sensor"
        text = group = frame = ""
        for _ in range(20):
            text, reg, group, frame = self.line()
            if reg in regs:
                break
        return to_traditional(text), "traditional", group, frame
