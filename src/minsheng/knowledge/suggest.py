"""Suggestions from the knowledge base, pure Python (no Django): from a caller's words, up
to three articles with a score, and whether the question is answerable from them.

Callers rarely use an article's words (a young mother says "孩子刚出生，看病能报销的那个
怎么给他弄上", not 新生儿参保), so an article is matched by everything known to ask for it:
its own title, keywords and answer, and the questions callers put for it (``examples``:
paraphrases written for training, and later the city's own answered calls).

Model: every text (an article's fields, each example question) is a row of TF-IDF features,
character 1–3-grams of the normalised text beside jieba words; a linear classifier (one
class per article, plus one class for questions no article answers, learned from the
not-answerable examples) is fitted on the rows. An article's score is the softmax of the
classifier's scores (temperature fitted on out-of-fold questions), blended with the cosine
similarity to its nearest row, which keeps an article without examples (a new one, or one
of thousands) findable by its own words.

"Answerable" is a second, small decision (``Gate``): a logistic regression on what the
scores say about the first article (its raw classifier score, its margin over the second,
the "no article" class's raw score, the nearest-row similarity of the first article and of
the not-answerable examples, the length of the question), fitted on out-of-fold scores of
every training question to predict "the first article is the right one", with the lowest
cut-off at which the questions it passes are right at least 95% of the time
(``training.calibrate``).

Speed: one suggestion is a sparse vector times two sparse matrices (rows and weights), a
few milliseconds with 5,000 articles.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from minsheng.classify.text import has_signal, normalize, words

NONE = "__none__"  # the class of questions no article answers


@dataclass(frozen=True)
class ArticleText:
    """What the engine knows of an article: its code and text."""

    code: str
    title: str
    answer: str = ""
    keywords: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: dict[str, Any]) -> ArticleText:
        return cls(
            code=str(row.get("code") or row.get("id")),
            title=str(row.get("title", "")),
            answer=str(row.get("answer", "")),
            keywords=tuple(str(k) for k in row.get("keywords") or ()),
        )


@dataclass(frozen=True)
class Suggested:
    code: str
    title: str
    score: float


@dataclass(frozen=True)
class Suggestion:
    articles: list[Suggested]
    answerable: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "articles": [{"code": a.code, "title": a.title, "score": a.score} for a in self.articles],
            "answerable": self.answerable,
        }


@dataclass(frozen=True)
class Config:
    char_ngrams: tuple[int, int] = (1, 3)
    word_ngrams: tuple[int, int] = (1, 2)
    word_weight: float = 0.5  # weight of the word block against the character block
    answer_chars: int = 400  # the head of an answer that is read (the rest is procedure)
    C: float = 1.0
    model: str = "svm"  # or "lr": multinomial logistic regression
    keyword_rows: bool = False  # each keyword a row of its own
    linear: bool = True
    none_class: bool = True
    blend: float = 0.1  # share of nearest-row similarity in an article's score
    temperature: float = 1.0
    threshold: float = 0.5  # without a gate: answerable at or above this top score
    max_linear_classes: int = 2000  # above this, articles without examples are served by similarity only


@functools.lru_cache(maxsize=50_000)
def _tokens(normalized: str) -> tuple[str, ...]:
    return tuple(words(normalized))


def _words(normalized: str) -> tuple[str, ...]:
    """jieba words, remembered: an engine's build, the folds that calibrate it and the next
    rebuild segment the same articles' text again and again (segmentation is most of a
    build's time)."""
    return _tokens(normalized)


def _vectorizers(cfg: Config) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    chars = TfidfVectorizer(
        analyzer="char", ngram_range=cfg.char_ngrams, sublinear_tf=True, lowercase=False, dtype=np.float32
    )
    word_vec = TfidfVectorizer(
        tokenizer=_words,
        token_pattern=None,
        ngram_range=cfg.word_ngrams,
        sublinear_tf=True,
        lowercase=False,
        dtype=np.float32,
    )
    return chars, word_vec


GATE_FEATURES = ("raw_top", "raw_margin", "raw_none", "near_top", "near_none", "log_length")


@dataclass(frozen=True)
class Gate:
    """The "answerable" decision: a logistic regression over ``GATE_FEATURES`` and the
    cut-off on its probability that the first article is right."""

    weights: tuple[float, ...]
    bias: float
    cutoff: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        z = features @ np.asarray(self.weights) + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


@dataclass(frozen=True)
class Parts:
    """What a batch of questions scores before it becomes suggestions: the classifier's raw
    scores and the nearest-row similarities, (texts, articles + 1) each, the last column the
    "no article" class; ``lengths`` the normalised questions' lengths."""

    raw: np.ndarray
    near: np.ndarray
    lengths: np.ndarray


def blended(parts: Parts, temperature: float, blend: float) -> np.ndarray:
    """(texts, articles + 1) scores in [0, 1]: the softmax of the raw scores at
    ``temperature``, blended with the nearest-row similarity."""
    z = parts.raw / temperature
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return np.asarray((1 - blend) * p + blend * parts.near)


def gate_features(parts: Parts, scores: np.ndarray) -> np.ndarray:
    """(texts, len(GATE_FEATURES)): what the scores say about the first article."""
    n_art = scores.shape[1] - 1
    rows = np.arange(len(scores))
    art = scores[:, :n_art]
    if n_art < 2:
        order = np.zeros((len(scores), 2), dtype=np.intp)
    else:
        order = np.argpartition(-art, 1, axis=1)[:, :2]  # the first, then the second
    first, second = order[:, 0], order[:, 1]
    raw = parts.raw
    return np.column_stack(
        [
            raw[rows, first],
            raw[rows, first] - raw[rows, second],
            raw[:, n_art],
            parts.near[rows, first],
            parts.near[:, n_art],
            np.log1p(parts.lengths),
        ]
    )


def _l2(x: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ x)


@dataclass
class Suggester:
    """A built engine. ``Suggester.build(articles, examples)``; ``suggest(text)``."""

    articles: list[ArticleText]
    config: Config
    chars: TfidfVectorizer
    word_vec: TfidfVectorizer
    rows: sparse.csr_matrix  # (features, rows): every row l2-normalised
    row_label: np.ndarray  # article index per row, -1 for not-answerable examples
    coef: sparse.csr_matrix | None  # (features, classes)
    intercept: np.ndarray | None
    classes: np.ndarray  # article index per linear class, -1 for NONE
    meta: dict[str, Any] = field(default_factory=dict)
    gate: Gate | None = None
    _starts: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.intp), repr=False)
    _owners: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.intp), repr=False)

    # -- building ------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        articles: Sequence[ArticleText],
        examples: Iterable[tuple[str, str | None]] = (),
        config: Config | None = None,
    ) -> Suggester:
        """``examples``: (question, article code or None for "no article answers it")."""
        cfg = config or Config()
        arts = list(articles)
        index = {a.code: i for i, a in enumerate(arts)}
        texts: list[str] = []
        labels: list[int] = []
        for i, a in enumerate(arts):
            for text in cls._article_docs(a, cfg):
                texts.append(text)
                labels.append(i)
        with_examples: set[int] = set()
        for text, code in examples:
            if code is None:
                if cfg.none_class:
                    texts.append(normalize(text))
                    labels.append(-1)
                continue
            if code in index:
                texts.append(normalize(text))
                labels.append(index[code])
                with_examples.add(index[code])
        if not texts:
            texts, labels = [""], [-1]
        # Rows in article order (the not-answerable examples last), so that an article's
        # nearest row is one ``maximum.reduceat`` over its run of rows.
        order = sorted(range(len(texts)), key=lambda r: (labels[r] < 0, labels[r], r))
        texts = [texts[r] for r in order]
        labels = [labels[r] for r in order]
        chars, word_vec = _vectorizers(cfg)
        y = np.array(labels, dtype=np.int64)
        probe = cls(arts, cfg, chars, word_vec, sparse.csr_matrix((0, 0)), y, None, None, np.array([]))
        x = probe._combine(chars.fit_transform(texts), word_vec.fit_transform(texts))
        coef, intercept, classes = None, None, np.array([], dtype=np.int64)
        if cfg.linear and len(set(labels)) >= 2:
            keep = np.ones(len(y), dtype=bool)
            if len(arts) > cfg.max_linear_classes:  # thousands of articles: learn only those with examples
                keep = np.isin(y, [*with_examples, -1])
            if len(set(y[keep].tolist())) >= 2:
                if cfg.model == "lr":
                    from sklearn.linear_model import LogisticRegression

                    svm = LogisticRegression(C=cfg.C, max_iter=2000)
                else:
                    svm = LinearSVC(C=cfg.C)
                svm.fit(x[keep], y[keep])
                classes = np.asarray(svm.classes_, dtype=np.int64)
                w = svm.coef_
                b = svm.intercept_
                if len(classes) == 2:
                    w = np.vstack([-w[0], w[0]])
                    b = np.array([-b[0], b[0]])
                w[np.abs(w) < 1e-4] = 0.0
                coef = sparse.csr_matrix(w.T.astype(np.float32))
                intercept = b.astype(np.float64)
        probe.rows = sparse.csr_matrix(x.T)  # (features, rows): a query row times this
        probe.coef, probe.intercept, probe.classes = coef, intercept, classes
        probe._runs()
        probe.meta = {"articles": len(arts), "rows": len(texts), "with_examples": len(with_examples)}
        return probe

    def _runs(self) -> None:
        """Where each label's run of rows starts, and whose run it is (NONE: the last column)."""
        labels = self.row_label
        starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]]) if len(labels) else np.array([])
        self._starts = starts.astype(np.intp)
        owners = labels[self._starts] if len(labels) else np.array([], dtype=np.int64)
        self._owners = np.where(owners >= 0, owners, len(self.articles)).astype(np.intp)

    @staticmethod
    def _article_docs(a: ArticleText, cfg: Config) -> list[str]:
        title = normalize(a.title)
        keywords = " ".join(normalize(k) for k in a.keywords)
        answer = normalize(a.answer[: cfg.answer_chars])
        docs = [f"{title} {keywords}", f"{title} {keywords} {answer}"]
        if cfg.keyword_rows:
            docs += [normalize(k) for k in a.keywords]
        return docs

    def _features(self, normalized: list[str]) -> sparse.csr_matrix:
        return self._combine(self.chars.transform(normalized), self.word_vec.transform(normalized))

    def _combine(self, chars: sparse.csr_matrix, word_block: sparse.csr_matrix) -> sparse.csr_matrix:
        c = _l2(chars)
        w = _l2(word_block) * self.config.word_weight
        return _l2(sparse.hstack([c, w]).tocsr())

    # -- suggesting ----------------------------------------------------------------------
    def parts(self, texts: Sequence[str]) -> Parts:
        """The raw classifier scores and nearest-row similarities of ``texts``. An article
        the classifier has no class for (one of thousands without examples) has a raw
        score of minus infinity: it wins only by its own words."""
        norm = [normalize(t) for t in texts]
        q = self._features(norm)
        n_art = len(self.articles)
        sims = (q @ self.rows).toarray()  # (texts, rows)
        nearest = np.zeros((len(norm), n_art + 1))
        if len(self._starts):
            nearest[:, self._owners] = np.maximum.reduceat(sims, self._starts, axis=1)
        lengths = np.array([len(t) for t in norm], dtype=np.float64)
        if self.coef is None or self.intercept is None:
            return Parts(np.zeros_like(nearest), nearest, lengths)
        raw = np.full((len(norm), n_art + 1), -np.inf)  # a class the classifier lacks: no probability
        linear = np.asarray((q @ self.coef).todense()) + self.intercept
        raw[:, np.where(self.classes >= 0, self.classes, n_art)] = linear
        return Parts(raw, nearest, lengths)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """(texts, articles + 1) scores in [0, 1]; the last column is "no article"."""
        return self._scores(self.parts(texts))

    def _scores(self, parts: Parts) -> np.ndarray:
        if self.coef is None or self.intercept is None:
            return parts.near
        return blended(parts, self.config.temperature, self.config.blend)

    def suggest_many(self, texts: Sequence[str], k: int = 3) -> list[Suggestion]:
        if not texts:
            return []
        parts = self.parts(texts)
        all_scores = self._scores(parts)
        n_art = len(self.articles)
        if self.gate is not None and n_art:
            passes = self.gate.probability(gate_features(self._finite(parts), all_scores)) >= self.gate.cutoff
        else:
            passes = all_scores[:, :n_art].max(axis=1, initial=0.0) >= self.config.threshold
        out = []
        for text, row, gate in zip(texts, all_scores, passes, strict=True):
            if not has_signal(normalize(text)) or n_art == 0:
                out.append(Suggestion([], False))
                continue
            art = row[:n_art]
            top = np.argsort(-art)[:k]
            picks = [
                Suggested(self.articles[i].code, self.articles[i].title, round(float(art[i]), 4))
                for i in top
                if art[i] > 0
            ]
            answerable = bool(picks) and bool(gate)
            out.append(Suggestion(picks, answerable))
        return out

    @staticmethod
    def _finite(parts: Parts) -> Parts:
        """The raw scores with a missing class at the row's lowest score (the gate's
        features are differences of raw scores)."""
        raw = parts.raw
        if np.isfinite(raw).all():
            return parts
        low = np.where(np.isfinite(raw), raw, np.inf).min(axis=1, keepdims=True)
        return replace(parts, raw=np.where(np.isfinite(raw), raw, low))

    def suggest(self, text: str, k: int = 3) -> Suggestion:
        return self.suggest_many([text], k)[0]

    def with_config(self, **changes: Any) -> Suggester:
        """The same engine with other scoring knobs (temperature, blend, threshold)."""
        return replace(self, config=replace(self.config, **changes))


# --- measuring ---------------------------------------------------------------------------------


def evaluate(engine: Suggester, questions: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """top1 / top3 over answerable questions; ``none_recall``: share of not-answerable
    questions marked not answerable; ``answerable_precision``: share of questions marked
    answerable whose first article is the right one."""
    if not questions:
        return {"n": 0}
    sugg = engine.suggest_many([t for t, _ in questions])
    ans = [(s, c) for s, (_, c) in zip(sugg, questions, strict=True) if c is not None]
    nul = [s for s, (_, c) in zip(sugg, questions, strict=True) if c is None]
    top1 = sum(bool(s.articles) and s.articles[0].code == c for s, c in ans)
    top3 = sum(c in [a.code for a in s.articles[:3]] for s, c in ans)
    marked = [(s, c) for s, (_, c) in zip(sugg, questions, strict=True) if s.answerable]
    right = sum(c is not None and s.articles[0].code == c for s, c in marked)
    return {
        "n": len(questions),
        "answerable": len(ans),
        "not_answerable": len(nul),
        "top1": round(top1 / len(ans), 4) if ans else None,
        "top3": round(top3 / len(ans), 4) if ans else None,
        "none_recall": round(sum(not s.answerable for s in nul) / len(nul), 4) if nul else None,
        "answerable_precision": round(right / len(marked), 4) if marked else None,
        "answerable_coverage": round(sum(s.answerable for s, _ in ans) / len(ans), 4) if ans else None,
    }
