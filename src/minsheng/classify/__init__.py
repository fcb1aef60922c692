"""Classification of request text into the list of matters (事项清单), without Django.

    from minsheng.classify import ModelStore
    store = ModelStore("var/classifier", auto_train=True)
    prediction = store.current().predict("钟埭村3组路灯不亮2盏，已拍照")
    prediction.code, prediction.confidence, prediction.candidates

See docs/classify.md for the model, the corpus, the measured quality and speed.
"""

from .keywords import KeywordClassifier, KeywordRules, Prediction, load_catalog
from .model import Classifier, Config, corpus_examples, evaluate, load_corpus, train
from .store import ModelStore
from .text import normalize

__all__ = [
    "Classifier",
    "Config",
    "KeywordClassifier",
    "KeywordRules",
    "ModelStore",
    "Prediction",
    "corpus_examples",
    "evaluate",
    "load_catalog",
    "load_corpus",
    "normalize",
    "train",
]
