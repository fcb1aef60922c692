"""The classifier of the list of matters (事项清单): quality on the held-out corpus, routing of
hand-written requests, robustness to bad input, calibration, the model store (versions,
corrupt files, hot reload, first-use training) and speed. No database, no Django:
run with ``pytest tests/unit/test_classify.py -p no:django``.
"""

import json
import logging
import time
import types
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from minsheng.classify import (
    Classifier,
    Config,
    KeywordClassifier,
    ModelStore,
    Prediction,
    corpus_examples,
    evaluate,
    load_catalog,
    load_corpus,
    normalize,
    train,
)
from minsheng.classify.keywords import catalog_matters
from minsheng.classify.model import _TrainingData
from minsheng.classify.text import has_signal
from tools.corpus import generate


@pytest.fixture
def settings():
    """The suite's conftest tunes Django settings in autouse fixtures; these tests need no
    Django, so a stand-in keeps them runnable with ``-p no:django``."""
    return types.SimpleNamespace()


@pytest.fixture
def _private_cache():
    """Overrides the conftest's autouse cache reset, which needs Django's settings."""


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def model(catalog):
    return Classifier.train(catalog=catalog)


@pytest.fixture(scope="module")
def heldout():
    return corpus_examples("heldout")


# --- the corpus ------------------------------------------------------------------------------
def test_corpus_covers_every_matter_in_every_register(catalog):
    codes = {m["code"] for m in catalog["matters"]}
    train_rows, held_rows = load_corpus("train"), load_corpus("heldout")
    per_code = Counter(r["code"] for r in train_rows)
    assert set(per_code) == codes
    assert min(per_code.values()) >= 60
    assert len(train_rows) + len(held_rows) >= 2000
    assert 0.17 <= len(held_rows) / (len(train_rows) + len(held_rows)) <= 0.23
    registers = Counter(r["register"] for r in train_rows)
    for reg in ("phone", "grid", "rider", "enterprise", "resident", "sensor", "traditional"):
        assert registers[reg] >= 10, reg
    assert all(set(r) >= {"text", "code", "register"} for r in train_rows + held_rows)


def test_heldout_never_overlaps_training():
    train_texts = {r["text"] for r in load_corpus("train")}
    held = load_corpus("heldout")
    assert not train_texts & {r["text"] for r in held}
    # the held-out part is written with phrasings the training part does not contain
    assert sum(r["text"] in train_texts for r in held) == 0


def test_corpus_is_the_generators_output():
    """The committed files are exactly what the seeded generator writes."""
    train_rows, held_rows = generate.build()
    assert train_rows == load_corpus("train")
    assert held_rows == load_corpus("heldout")


def test_corpus_has_noise_of_real_intake():
    texts = [r["text"] for r in load_corpus("train")]
    joined = "\n".join(texts)
    for filler in ("那个", "就是", "嗯", "喂"):
        assert filler in joined
    assert any(t in joined for t in ("景盖", "露灯", "拉圾", "务业"))  # homophone typos
    assert any(p in joined for p in ("钟埭村", "水洞埭社区", "胜利路", "乍浦镇"))
    trad = [r["text"] for r in load_corpus("train") if r["register"] == "traditional"]
    assert trad and all(normalize(t) != t.lower() for t in trad)


# --- quality ---------------------------------------------------------------------------------
def test_heldout_quality_meets_the_bar(model, heldout, catalog):
    scores = evaluate(model, heldout)  # per-matter thresholds
    assert scores["top1"] >= 0.90, scores["confusion"]
    assert scores["top3"] >= 0.97
    assert scores["coverage"] >= 0.60 and scores["precision"] >= 0.97, scores
    flat = evaluate(model, heldout, threshold=model.default_threshold)
    assert model.default_threshold == 0.95
    assert flat["coverage"] >= 0.60 and flat["precision"] >= 0.97, flat
    # the catalog's own 0.85 covers more at a precision close to the bar (hence the 0.95 floor)
    catalog_flat = evaluate(model, heldout, threshold=catalog["defaults"]["auto_threshold"])
    assert catalog_flat["coverage"] >= flat["coverage"] and catalog_flat["precision"] >= 0.95
    assert all(len(c) == 3 and c[2] >= 1 for c in scores["confusion"])


def test_the_written_parts_are_apart_from_each_other_and_from_training(catalog):
    """Requests written by hand: ``written`` is trained on; ``calibration`` only sets the
    confidence; ``apart`` is never trained nor tuned on. No text is in two parts, and
    training reads neither calibration nor apart."""
    parts = {
        p: {r["text"] for r in load_corpus(p)}
        for p in ("train", "heldout", "written", "calibration", "apart")
    }
    names = sorted(parts)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not parts[a] & parts[b], (a, b)
    data = _TrainingData.gather(catalog_matters(catalog), [], use_corpus=True)
    trained = set(data.texts)
    assert parts["written"] <= trained and not trained & (parts["calibration"] | parts["apart"])
    codes = {m["code"] for m in catalog["matters"]}
    for part in ("written", "calibration", "apart"):
        rows = load_corpus(part)
        assert {r["code"] for r in rows} == codes, part  # every matter, labelled by the catalog's codes
    assert len(load_corpus("apart")) >= 400
    assert len({r["register"] for r in load_corpus("apart")}) >= 8


def test_held_apart_quality_meets_the_bar(model):
    """On requests written apart from everything the model learned from (issue #13's bar):
    top-1 at least 90%, and at least 60% routed alone at 97% precision or better."""
    apart = corpus_examples("apart")
    scores = evaluate(model, apart)
    assert scores["top1"] >= 0.90, scores["confusion"]
    assert scores["top3"] >= 0.97
    assert scores["coverage"] >= 0.60 and scores["precision"] >= 0.97, scores


def test_confidence_floor_comes_from_requests_never_trained_on(model):
    cal = model.meta["cross_validation"]["calibration"]
    assert cal["n"] == len(load_corpus("calibration"))
    assert all(t >= cal["floor"] for t in model.thresholds.values())
    assert cal["precision"] >= Config().calibration_precision - 1e-9


def test_confidence_is_calibrated(model, heldout):
    scores = evaluate(model, heldout)
    assert scores["ece"] < 0.06
    preds = model.predict_many([t for t, _ in heldout])
    right = np.array([p.code == c for p, (_, c) in zip(preds, heldout, strict=True)])
    conf = np.array([p.confidence for p in preds])
    assert right[conf >= 0.9].mean() > right[conf < 0.6].mean() + 0.2
    # the per-matter thresholds never go below the floor (catalog's 0.85, classifier's 0.95)
    assert all(t >= model.default_threshold >= 0.85 for t in model.thresholds.values())


ROUTES = [
    ("钟埭村3组路灯不亮2盏，已拍照", "road.streetlight"),
    ("喂你好，那个就是胜利路这边景盖没了，黑洞洞的，晚上骑车掉进去怎么办", "road.manhole"),
    ("我司因用工短缺，二期车间招不到工人，恳请协调解决", "enterprise.service"),
    ("下了一夜暴雨，小区地下车库进水了，车都泡在水里", "water.flooding"),
    ("天没下雨，楼下化粪池满了，粪水冒出来流到路上，臭死了", "water.sewage"),
    ("夜宵摊每天晚上把桌子摆到人行道上，走路都过不去", "city.street_vending"),
    ("夜宵摊收摊以后竹签纸盒扔得满地都是，环卫也不来扫", "city.sanitation"),
    ("工地晚上十二点了还在打桩施工，吵得孩子睡不着", "env.noise"),
    ("顶楼那户人家在楼顶私自加盖了一间彩钢房", "city.illegal_building"),
    ("小区消防通道上每天晚上都停满了私家车", "traffic.parking"),
    ("楼道里堆满了纸箱旧家具，消防通道被杂物堵死了", "safety.hazard"),
    ("电梯卡在八楼和九楼之间，我妈被困在里面了", "housing.elevator"),
    ("物业费涨了一倍，物业什么都不管，我们要换物业", "housing.property"),
    ("小区里的健身器材坏了好几件，老人没法锻炼", "community.facility"),
    ("【智慧排口告警】PH-ZP-017号排口 流量异常 当前0.93m³/s 超阈值", "water.outfall"),
    ("老板跑路了，我们二十多个工人三个月工资没拿到", "labor.wages"),
    ("红绿灯坏了，路口一直闪黄灯，车子乱开", "traffic.signal"),
    ("河里漂着好多死鱼，河水发黑发臭", "env.river"),
    ("想咨询一下公积金怎么提取", "other.consult"),
    ("楼上卫生间漏水把我家天花板泡坏了，楼上邻居不肯赔", "neighbor.dispute"),
]


@pytest.mark.parametrize(("text", "code"), ROUTES)
def test_requests_route_to_their_matter(model, text, code):
    p = model.predict(text)
    assert p.code == code, p
    assert p.method == "model"
    assert 0.0 < p.confidence <= 1.0
    assert len(p.candidates) == 3 and p.candidates[0] == (p.code, p.confidence)
    assert [c for _, c in p.candidates] == sorted((c for _, c in p.candidates), reverse=True)


def test_traditional_characters_are_understood(model):
    assert normalize("社區路燈壞了") == normalize("社区路灯坏了")
    assert model.predict("社區裡的路燈壞了好幾盞，晚上黑漆漆的").code == "road.streetlight"
    assert model.predict("電梯故障停在兩層中間，有人被困在裡面").code == "housing.elevator"
    assert model.predict("我司因缺工嚴重，懇請政府協調招工").code == "enterprise.service"


# --- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text", ["", "   ", None, "😀😡👍", "‼️‼️", "12345", "street light is broken, please fix", "\x00\x07"]
)
def test_no_signal_falls_back_to_consult_with_zero_confidence(model, text):
    p = model.predict(text)
    assert isinstance(p, Prediction)
    assert p.code == "other.consult"
    assert p.confidence == 0.0
    assert not model.accepts(p)


def test_huge_text_is_truncated_and_fast(model):
    text = "喂你好，胜利路的路灯不亮了，" + "那个就是说，" * 4000
    assert len(text) > 20000
    started = time.thread_time()
    p = model.predict(text)
    assert time.thread_time() - started < 0.05  # CPU time: immune to a busy machine
    assert p.code == "road.streetlight"
    assert len(normalize(text)) <= 601


def test_odd_inputs_never_raise(model):
    texts = [
        "路" * 20000,
        "😀路灯😀不亮😀",
        "ＬＥＤ路灯坏了",
        "路灯\n\n不亮\t\t",
        12345,
        b"bytes",
        "一",
        "a" * 5000,
    ]
    preds = model.predict_many(texts)
    assert len(preds) == len(texts)
    assert preds[1].code == preds[2].code == preds[3].code == "road.streetlight"
    assert model.predict_many([]) == []


def test_predict_many_matches_predict(model, heldout):
    texts = [t for t, _ in heldout[:40]]
    assert model.predict_many(texts) == [model.predict(t) for t in texts]


def test_fast_path_equals_sklearn_transform(model, heldout):
    """One prediction skips sklearn's transform; the numbers must stay the same."""
    s = model._s
    norm = [normalize(t) for t, _ in heldout[:60]]
    x = s.vectorizer.transform(norm)
    expected = np.asarray(x @ s.coef.T.astype(np.float64)) + s.intercept
    expected += (s.rules.matrix(norm) * s.keyword_weight) @ s.kw_coef.T
    got, _ = model._scores(norm)
    assert np.allclose(got, expected, atol=1e-4)


def test_normalize_folds_width_case_digits_and_symbols():
    assert normalize("ＡＢＣ１２３路灯！！") == "abc0路灯"
    assert normalize("水深35cm，PH-ZP-017号") == "水深0cm ph zp 0号"
    assert normalize(None) == ""
    assert not has_signal(normalize("hello 123 😀"))
    assert has_signal(normalize("路灯"))


# --- keyword fallback ------------------------------------------------------------------------
def test_keyword_classifier_is_weak_on_purpose(catalog):
    kc = KeywordClassifier(catalog)
    p = kc.predict("人民路上的井盖不见了")
    assert (p.code, p.method) == ("road.manhole", "keywords")
    assert 0 < p.confidence <= 0.6
    assert not kc.accepts(p)
    empty = kc.predict("")
    assert (empty.code, empty.confidence) == ("other.consult", 0.0)
    tie = kc.predict("井盖旁边的路灯")
    assert {c for c, _ in tie.candidates} == {"road.manhole", "road.streetlight"}


# --- training with the city's own data -------------------------------------------------------
def test_training_adds_examples_and_drops_unknown_codes(catalog, caplog):
    small = {
        "version": "test",
        "defaults": {"auto_threshold": 0.8},
        "matters": [
            {"code": "road.streetlight", "name": "路灯不亮、损坏", "keywords": ["路灯"]},
            {"code": "housing.elevator", "name": "电梯故障、困人", "keywords": ["电梯"]},
            {"code": "pets.stray", "name": "流浪犬只", "keywords": ["流浪狗", "野狗咬人"]},
        ],
    }
    extra = [
        ("小区里好多流浪狗，晚上追着人叫", "pets.stray"),
        ("野狗把小孩咬伤了", "pets.stray"),
        ("外星人", "ufo"),
    ]
    with caplog.at_level(logging.WARNING):
        m = train(extra, small)
    assert "outside the catalog" in caplog.text
    assert set(m.classes) == {"road.streetlight", "housing.elevator", "pets.stray"}
    assert m.meta["training_size"]["extra"] == 2 and m.meta["training_size"]["dropped"] == 1
    stray = m.predict("村口有几条流浪狗，见人就咬")
    assert stray.code == "pets.stray"
    # two examples are not enough to trust the confidence: never routed automatically
    assert m.threshold_for("pets.stray") == 1.0 and not m.accepts(stray)
    assert m.predict("路灯坏了").code == "road.streetlight"
    assert m.default_threshold == 0.95 and m.meta["catalog_auto_threshold"] == 0.8
    assert train(extra, small, config=Config(min_threshold=0.0)).default_threshold == 0.8
    assert "other.consult" not in m.classes and m.predict("").confidence == 0.0


def test_meta_records_what_was_trained(model):
    meta = model.meta
    assert meta["training_size"]["corpus"] == len(load_corpus("train"))
    assert meta["training_size"]["written"] == len(load_corpus("written"))
    assert meta["heldout"]["n"] == len(load_corpus("heldout"))
    assert meta["created_at"].endswith("+00:00")
    assert meta["cross_validation"]["top1"] > 0.85
    assert meta["training_seconds"] < 30


# --- the model store -------------------------------------------------------------------------
def test_publish_writes_versions_atomically(model, tmp_path):
    store = ModelStore(tmp_path)
    assert store.publish(model) == "v0001"
    assert store.publish(model) == "v0002"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v0001", "v0002"]  # no temp dirs left
    meta = json.loads((tmp_path / "v0002" / "meta.json").read_text(encoding="utf-8"))
    assert meta["version"] == "v0002"
    assert {"created_at", "training_size", "heldout", "thresholds"} <= set(meta)
    loaded = store.latest()
    assert isinstance(loaded, Classifier) and loaded.version == "v0002"
    text = "胜利路的路灯不亮了"
    assert loaded.predict(text).code == model.predict(text).code
    assert loaded.predict(text).model_version == "v0002"


@pytest.mark.parametrize("damage", ["garbage", "truncate", "delete_model", "delete_meta", "bad_meta"])
def test_corrupt_newest_version_falls_back_to_previous(model, tmp_path, caplog, damage):
    store = ModelStore(tmp_path)
    store.publish(model)
    store.publish(model)
    newest = tmp_path / "v0002"
    blob = newest / "model.joblib"
    if damage == "garbage":
        blob.write_bytes(b"not a model at all")
    elif damage == "truncate":
        blob.write_bytes(blob.read_bytes()[:1000])
    elif damage == "delete_model":
        blob.unlink()
    elif damage == "delete_meta":
        (newest / "meta.json").unlink()
    else:
        (newest / "meta.json").write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="minsheng.classify"):
        loaded = store.latest()
    assert isinstance(loaded, Classifier) and loaded.version == "v0001"
    assert "v0002" in caplog.text and "unusable" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="minsheng.classify"):
        assert store.latest().version == "v0001"
    assert "unusable" in caplog.text  # latest() says so every time it is asked


def test_concurrent_publishers_get_distinct_versions(model, tmp_path):
    store = ModelStore(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        names = list(pool.map(lambda _: store.publish(model), range(4)))
    assert sorted(names) == ["v0001", "v0002", "v0003", "v0004"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    for n in names:
        assert json.loads((tmp_path / n / "meta.json").read_text(encoding="utf-8"))["version"] == n


def test_no_usable_version_falls_back_to_keywords(model, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="minsheng.classify"):
        empty = ModelStore(tmp_path / "missing").latest()
    assert isinstance(empty, KeywordClassifier)
    assert "keyword" in caplog.text
    store = ModelStore(tmp_path / "broken")
    store.publish(model)
    (tmp_path / "broken" / "v0001" / "model.joblib").write_bytes(b"\x80\x04junk")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="minsheng.classify"):
        fallback = store.latest()
    assert isinstance(fallback, KeywordClassifier)
    assert fallback.predict("井盖没了").method == "keywords"
    assert "unusable" in caplog.text and "keyword" in caplog.text


def test_current_hot_reloads_a_new_version(model, tmp_path, caplog):
    now = [0.0]
    store = ModelStore(tmp_path, check_interval=10, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="minsheng.classify"):
        first = store.current()
    assert isinstance(first, KeywordClassifier)  # empty store, no auto-training
    store.publish(model)
    assert store.current() is first  # not checked again before the interval
    now[0] = 11
    v1 = store.current()
    assert v1.version == "v0001"
    assert store.current() is v1
    store.publish(model)
    now[0] = 22
    v2 = store.current()
    assert v2.version == "v0002" and v2 is not v1
    # a broken newer version is skipped once, with one warning; the running model stays
    store.publish(model)
    (tmp_path / "v0003" / "model.joblib").write_bytes(b"junk")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="minsheng.classify"):
        now[0] = 33
        assert store.current().version == "v0002"
        now[0] = 44
        assert store.current().version == "v0002"
    assert caplog.text.count("v0003") == 1


def test_empty_store_trains_on_first_use(tmp_path):
    store = ModelStore(tmp_path, auto_train=True)
    started = time.perf_counter()
    current = store.current()
    elapsed = time.perf_counter() - started
    assert isinstance(current, Classifier) and current.version == "v0001"
    assert store.versions() == ["v0001"]
    assert elapsed < 20
    assert current.predict("乍浦镇天妃路的红绿灯坏了").code == "traffic.signal"
    assert ModelStore(tmp_path).latest().version == "v0001"  # cached for the next process


def test_prune_keeps_the_newest(model, tmp_path):
    store = ModelStore(tmp_path)
    for _ in range(4):
        store.publish(model)
    assert store.prune(keep=2) == ["v0001", "v0002"]
    assert store.versions() == ["v0003", "v0004"]
    assert store.publish(model) == "v0005"


# --- speed -----------------------------------------------------------------------------------
def test_one_prediction_is_fast(model, heldout):
    """p99 of one predict call under 5 ms. Measured in this thread's CPU time, so that other
    processes on a busy shared machine cannot fail it; bench/classify_quality.py reports
    wall-clock latency."""
    texts = [t for t, _ in heldout]
    for t in texts[:50]:
        model.predict(t)
    lat = []
    for t in texts:
        s = time.thread_time()
        model.predict(t)
        lat.append(time.thread_time() - s)
    assert float(np.percentile(lat, 99)) < 0.005
    assert float(np.percentile(lat, 50)) < 0.001
