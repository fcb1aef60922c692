"""What the corpus holds per matter: hand-written pools of phrasings and the registers the
matter is reported in."""

from __future__ import annotations

from dataclasses import dataclass, field

Pool = list[str | tuple[str, ...]]  # a tuple holds paraphrases of one concept


@dataclass
class Matter:
    """The pools of one matter (事项).

    say     a person's own words (resident, phone, rider): a clause that may follow a place
    terse   a grid worker's report words
    formal  a written letter's words (enterprise letters, or a person's formal letter)
    impact  consequences, in a person's words
    ask     what a person asks for, beside the general asks
    sensor  whole alarm texts of a device
    loc     the kinds of address a line may name (keys of ``slots.ADDRESS``), one drawn per
            line (a kind named twice is drawn twice as often)
    regs    the registers the matter is reported in, with their weights
    """

    code: str
    loc: tuple[str, ...]
    say: Pool
    terse: Pool = field(default_factory=list)
    formal: Pool = field(default_factory=list)
    impact: list[str] = field(default_factory=list)
    ask: list[str] = field(default_factory=list)
    sensor: list[str] = field(default_factory=list)
    regs: dict[str, int] = field(default_factory=dict)
