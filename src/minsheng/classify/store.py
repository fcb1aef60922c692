"""Versioned model files on disk: ``<root>/v0001/``, ``<root>/v0002/`` … each holding
``model.joblib`` and ``meta.json``.

Why this shape: a new model is published while web workers keep predicting with the old
one, so a version is written into a temporary directory and renamed into place in one step
(a reader never sees half a model); versions are never rewritten, so a bad model is undone
by deleting its directory; a long-running process notices a new version by listing one
directory, at most every ``check_interval`` seconds, and never stops answering: a broken
newest version falls back to the previous one, and no usable version at all to the keyword
rules of the list of matters, with a warning each time, never an exception.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .keywords import KeywordClassifier, load_catalog
from .model import META_FILE, MODEL_FILE, Classifier

log = logging.getLogger(__name__)

VERSION_RE = re.compile(r"^v(\d{4,})$")
AnyClassifier = Classifier | KeywordClassifier


class ModelStore:
    """The model versions under ``root``.

    ``latest()`` loads the newest usable version (or the keyword fallback); ``current()``
    is what a server calls per request: the loaded model, re-checked at most every
    ``check_interval`` seconds. With ``auto_train=True`` an empty store trains the default
    model from the shipped corpus on first use (about two seconds) and publishes it as
    ``v0001``, so a fresh installation needs no model file in the repository.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        catalog: dict[str, Any] | None = None,
        check_interval: float = 30.0,
        auto_train: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.root = Path(root)
        self.catalog = catalog
        self.check_interval = check_interval
        self.auto_train = auto_train
        self._clock = clock
        self._lock = threading.Lock()
        self._current: AnyClassifier | None = None
        self._loaded_key: tuple[str, int] | None = None
        self._checked_at = float("-inf")
        self._bad: set[tuple[str, int]] = set()  # (version, mtime) that failed to load

    # -- listing --------------------------------------------------------------------------
    def versions(self) -> list[str]:
        """Published version names, oldest first (temporary directories are ignored)."""
        try:
            names = [e.name for e in os.scandir(self.root) if e.is_dir() and VERSION_RE.match(e.name)]
        except FileNotFoundError:
            return []
        return sorted(names, key=lambda n: int(VERSION_RE.match(n).group(1)))  # type: ignore[union-attr]

    def _key(self, name: str) -> tuple[str, int]:
        try:
            return name, (self.root / name).stat().st_mtime_ns
        except OSError:
            return name, -1

    def _catalog(self) -> dict[str, Any]:
        if self.catalog is None:
            self.catalog = load_catalog()
        return self.catalog

    # -- loading --------------------------------------------------------------------------
    def load(self, name: str) -> Classifier:
        """One version, by name; raises when it is missing or broken."""
        model = Classifier.load(self.root / name)
        model.version = name
        return model

    def _newest_loadable(self, skip: set[tuple[str, int]]) -> tuple[AnyClassifier, tuple[str, int] | None]:
        for name in reversed(self.versions()):
            key = self._key(name)
            if key in skip:
                continue
            try:
                return self.load(name), key
            except Exception as exc:  # any failure of a file must not stop the service
                self._bad.add(key)
                log.warning(
                    "classifier model %s in %s is unusable (%s: %s); trying the previous version",
                    name,
                    self.root,
                    type(exc).__name__,
                    exc,
                )
        log.warning(
            "no usable classifier model in %s; falling back to the keyword rules of the list of matters",
            self.root,
        )
        return KeywordClassifier(self._catalog()), None

    def latest(self) -> AnyClassifier:
        """The newest version that loads; the previous one when it does not; the keyword
        classifier when none does. Never raises."""
        model, _key = self._newest_loadable(skip=set())
        return model

    def current(self) -> AnyClassifier:
        """The model a long-running process should use now. Cheap: at most every
        ``check_interval`` seconds it lists ``root`` and loads a newer version if one was
        published (hot reload, no restart)."""
        now = self._clock()
        if self._current is not None and now - self._checked_at < self.check_interval:
            return self._current
        with self._lock:
            if self._current is None or now - self._checked_at >= self.check_interval:
                self._checked_at = now
                self._refresh()
        assert self._current is not None
        return self._current

    def _refresh(self) -> None:
        if self.auto_train and not self.versions():
            self._bootstrap()
        usable = [k for k in map(self._key, self.versions()) if k not in self._bad]
        if self._current is not None and (not usable or usable[-1] == self._loaded_key):
            return  # nothing newer to try: keep serving what we have
        model, key = self._newest_loadable(skip=self._bad)
        if self._current is not None and key is None:
            return  # every candidate failed (and was logged): keep serving what we have
        if self._current is None or key != self._loaded_key:
            self._current, self._loaded_key = model, key
            log.info("classifier: using %s", model.version)

    def _bootstrap(self) -> None:
        started = time.perf_counter()
        log.info(
            "classifier store %s is empty: training the default model from the shipped corpus", self.root
        )
        try:
            name = self.publish(Classifier.train(catalog=self._catalog()))
        except Exception:
            log.exception("classifier: training the default model failed; using the keyword rules")
            return
        log.info("classifier: published %s in %.1f s", name, time.perf_counter() - started)

    # -- publishing -----------------------------------------------------------------------
    def publish(self, classifier: Classifier) -> str:
        """Write ``classifier`` as the next version, atomically: into a temporary directory
        under ``root``, then one rename. Two publishers racing get two versions, never a
        mixed one. Returns the version name and sets ``classifier.version``."""
        self.root.mkdir(parents=True, exist_ok=True)
        for _attempt in range(20):
            numbers = [int(VERSION_RE.match(n).group(1)) for n in self.versions()]  # type: ignore[union-attr]
            name = f"v{(max(numbers) + 1 if numbers else 1):04d}"
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=self.root))
            try:
                classifier.save(tmp, version=name)
                for f in (MODEL_FILE, META_FILE):
                    with open(tmp / f, "rb") as fh:
                        os.fsync(fh.fileno())
                try:
                    os.rename(tmp, self.root / name)
                except OSError:
                    if (self.root / name).exists():
                        continue  # someone published this number first: take the next
                    raise
                classifier.version = name
                classifier.meta["version"] = name
                return name
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"could not publish a classifier version in {self.root}")

    def prune(self, keep: int = 5) -> list[str]:
        """Delete all but the newest ``keep`` versions; returns the deleted names."""
        names = self.versions()
        doomed = names[:-keep] if keep > 0 else names
        for name in doomed:
            shutil.rmtree(self.root / name, ignore_errors=True)
        return doomed
