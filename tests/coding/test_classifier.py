"""The trained coder: estimator contract, deterministic training, evidence, persistence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from heard.cli import main
from heard.coding import MultiLabelCodeClassifier, TrainedCoder, load_model, save_model
from heard.coding._features import MessageInput, collect_inputs, word_grams
from heard.coding._train import corpus_inputs, fit_model, load_corpus, raise_to_everyday_budget
from heard.errors import InputError
from heard.model import Corpus, Message

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "data" / "corpus"
SMALL = {"calibration_folds": 2}


def _expected_failures(estimator: MultiLabelCodeClassifier) -> dict[str, str]:
    if estimator.calibration_folds < 2:
        return {}
    why = ("calibration folds split samples: a sample of weight 2 stays in one fold, where "
           "two copies of it may fall in two")
    return {f"check_sample_weight_equivalence_on_{kind}_data": why for kind in ("dense", "sparse")}


@parametrize_with_checks([MultiLabelCodeClassifier(calibration_folds=0),
                          MultiLabelCodeClassifier(calibration_folds=2)],
                         expected_failed_checks=_expected_failures)
def test_classifier_sklearn_contract(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


def _slice(tmp_path: Path, files: tuple[str, ...]) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in files:
        shutil.copy(CORPUS / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = _slice(tmp_path_factory.mktemp("slice"), ("batch_001.jsonl", "batch_002.jsonl"))
    messages, gold, couples = load_corpus(folder)
    inputs = corpus_inputs(messages, 0.05)
    return fit_model(inputs, gold, couples, seed=0, settings=SMALL), messages, inputs


def test_classifier_multilabel_thresholds_applied() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0.5].astype(int)
    clf = MultiLabelCodeClassifier(calibration_folds=3).fit(X, Y)
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 2) and list(clf.classes_) == [0, 1]
    assert (clf.predict(X) == (proba >= clf.thresholds_)).all()
    clf.thresholds_ = np.array([1.1, 0.0])
    assert clf.predict(X)[:, 0].sum() == 0 and clf.predict(X)[:, 1].all()


def test_classifier_recall_floor_lowers_threshold() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(scale=1.5, size=200) > 1.0).astype(int)
    Y = np.c_[y, 1 - y]
    free = MultiLabelCodeClassifier(calibration_folds=4).fit(X, Y)
    floored = MultiLabelCodeClassifier(calibration_folds=4, recall_floor={0: 0.99}).fit(X, Y)
    assert floored.thresholds_[0] <= free.thresholds_[0]
    oof = floored.oof_proba_[:, 0] >= floored.thresholds_[0]
    assert oof[y == 1].mean() >= 0.99 or floored.thresholds_[0] == pytest.approx(0.02)


def test_everyday_budget_caps_the_share_of_everyday_rows_a_conflict_code_takes() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    Y = np.c_[X[:, 0] > 0.3, X[:, 1] > 0.3].astype(int)
    clf = MultiLabelCodeClassifier(calibration_folds=3).fit(X, Y)
    before = clf.thresholds_.copy()
    # everyday rows that look like the first code's positives far more often than real ones
    everyday = np.c_[rng.normal(1.0, 1.0, 2000), rng.normal(size=(2000, 2))]
    budget = {"share": 0.01, "families": ["attack"], "codes": []}
    moved = raise_to_everyday_budget(clf, everyday, ["contempt", "bid"], budget)
    assert list(moved) == ["contempt"] and moved["contempt"][0] == pytest.approx(before[0])
    assert clf.predict(everyday)[:, 0].mean() <= 0.011
    assert clf.thresholds_[1] == before[1]  # a reach code is never budgeted
    # a threshold already above the budget's ceiling stays where it was
    assert raise_to_everyday_budget(clf, everyday, ["contempt", "bid"], budget) == {}
    assert raise_to_everyday_budget(clf, everyday[:0], ["contempt", "bid"], budget) == {}


def test_classifier_unknown_labels_are_left_out_of_that_label_only() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(240, 3))
    Y = np.c_[X[:, 0] > 0.2, X[:, 1] > 0.2].astype(np.int8)
    # the last 80 rows look like the first label's positives, carry a mark of their own
    # (their source), and the first label is unknown there
    X[160:, 0] = 2.0
    X[160:, 2] = 3.0
    partial = Y.copy()
    partial[160:, 0] = -1
    Y[160:, 0] = 0
    clf = MultiLabelCodeClassifier(calibration_folds=3).fit(X, partial)
    known_only = MultiLabelCodeClassifier(calibration_folds=3).fit(X[:160], Y[:160])
    as_negatives = MultiLabelCodeClassifier(calibration_folds=3).fit(X, Y)
    np.testing.assert_allclose(clf.coef_[0], known_only.coef_[0], rtol=1e-6)
    assert clf.predict(X[160:])[:, 0].mean() > 0.9
    assert as_negatives.predict(X[160:])[:, 0].mean() < 0.8  # what presuming a negative does
    # the second label knows every row and learns from all of them
    np.testing.assert_allclose(clf.coef_[1], as_negatives.coef_[1], rtol=1e-6)
    nowhere = partial.copy()
    nowhere[:, 0] = -1  # a label no row knows is a constant, not an error
    assert MultiLabelCodeClassifier(calibration_folds=3).fit(X, nowhere).coef_[0].any() == 0
    with pytest.raises(ValueError, match="-1: unknown"):
        MultiLabelCodeClassifier().fit(X, np.c_[Y[:, 0], Y[:, 1] * 2])


def test_training_rows_presumed_free_of_conflict_leave_the_other_codes_unknown() -> None:
    from heard.coding._train import _indicator

    codes = ["contempt", "emotional_truth", "safety_risk"]
    Y = _indicator([{"emotional_truth"}, set()], codes,
                   [frozenset(), frozenset({"emotional_truth"})])
    assert Y.tolist() == [[0, 1, 0], [0, -1, 0]]
    assert _indicator([set()], codes).tolist() == [[0, 0, 0]]


def test_codes_unknown_in_a_source_become_unknown_there_only() -> None:
    from heard.coding._real import RealItem
    from heard.coding._train import _indicator, unknown_where_set

    def item(source: str, gold: set[str]) -> RealItem:
        return RealItem(f"{source}:1", source, "c1", "train", "A", "Beautiful.", (),
                        frozenset(gold), frozenset({"bid"}))

    film, sms = item("movie_dialogs", {"contempt", "complaint"}), item("sms", {"contempt"})
    setting = {"codes_unknown_in": {"movie_dialogs": ["contempt"]}}
    out = unknown_where_set([film, sms], setting)
    assert out[0].gold == {"complaint"} and out[0].unknown == {"bid", "contempt"}
    assert out[1] == sms
    assert unknown_where_set([film], {"codes_unknown_in": {}}) == [film]
    Y = _indicator([set(i.gold) for i in out], ["contempt", "complaint"],
                   [i.unknown for i in out])
    assert Y.tolist() == [[-1, 1], [1, 0]]


def test_classifier_threshold_beta_favors_precision() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + rng.normal(scale=1.5, size=300) > 1.0).astype(int)
    Y = np.c_[y, y]
    clf = MultiLabelCodeClassifier(calibration_folds=4, threshold_beta={1: 0.5}).fit(X, Y)
    f1_cut, precise_cut = clf.thresholds_
    assert precise_cut > f1_cut
    oof = clf.oof_proba_

    def precision(cut: float, col: int) -> float:
        hit = oof[:, col] >= cut
        return float(y[hit].mean())

    assert precision(precise_cut, 1) > precision(f1_cut, 0)


def test_classifier_training_is_deterministic(tmp_path: Path) -> None:
    folder = _slice(tmp_path, ("batch_003.jsonl",))
    messages, gold, couples = load_corpus(folder)
    inputs = corpus_inputs(messages, 0.05)
    a = fit_model(inputs, gold, couples, seed=0, settings=SMALL)
    b = fit_model(inputs, gold, couples, seed=0, settings=SMALL)
    assert np.array_equal(a.classifier.coef_, b.classifier.coef_)
    assert np.array_equal(a.classifier.thresholds_, b.classifier.thresholds_)
    assert a.featurizer.feature_names_ == b.featurizer.feature_names_
    save_model(a, tmp_path / "a")
    save_model(b, tmp_path / "b")
    for name in ("model.npz", "model.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_classifier_sample_weight_counts_in_thresholds_as_copies() -> None:
    # with calibration, a weight of 3 must move the threshold exactly as three copies of the
    # samples would, where the copies stay in the same calibration groups
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 3))
    Y = np.c_[X[:, 0] + rng.normal(scale=1.2, size=90) > 0.6,
              X[:, 1] + rng.normal(scale=1.2, size=90) > 0.0].astype(int)
    groups = np.arange(90) % 9
    heavy = np.arange(90) < 30
    w = np.where(heavy, 3.0, 1.0)
    weighted = MultiLabelCodeClassifier(calibration_folds=3).fit(
        X, Y, groups=groups, sample_weight=w)
    copies = np.r_[np.arange(90), np.flatnonzero(heavy), np.flatnonzero(heavy)]
    copied = MultiLabelCodeClassifier(calibration_folds=3).fit(
        X[copies], Y[copies], groups=groups[copies])
    plain = MultiLabelCodeClassifier(calibration_folds=3).fit(X, Y, groups=groups)
    assert np.allclose(weighted.coef_, copied.coef_, atol=1e-3)
    assert np.allclose(weighted.thresholds_, copied.thresholds_, atol=1e-3)
    assert not np.allclose(weighted.coef_, plain.coef_, atol=1e-3)


def test_fit_model_corpus_weight_weighs_the_first_rows_only(tmp_path: Path) -> None:
    folder = _slice(tmp_path, ("batch_003.jsonl",))
    messages, gold, couples = load_corpus(folder)
    inputs = corpus_inputs(messages, 0.05)
    half = len(inputs) // 2
    plain = fit_model(inputs, gold, couples, seed=0, settings=SMALL)
    one = fit_model(inputs, gold, couples, seed=0, settings={**SMALL, "corpus_weight": 1.0},
                    corpus_rows=half)
    heavy = fit_model(inputs, gold, couples, seed=0, settings={**SMALL, "corpus_weight": 3.0},
                      corpus_rows=half)
    assert np.array_equal(plain.classifier.coef_, one.classifier.coef_)
    assert not np.allclose(plain.classifier.coef_, heavy.classifier.coef_)


def test_classifier_transform_contract_and_evidence(small_model) -> None:  # type: ignore[no-untyped-def]
    model, messages, _ = small_model
    corpus = Corpus.from_messages(
        [Message(m.conversation_id, m.message_id, m.sender, m.timestamp, m.text)
         for m in messages[:80]]
        + [Message("x", "x-1", "A", None, "", kind="attachment")])
    coder = TrainedCoder(model=model)
    assert coder.fit(corpus) is coder
    out = coder.transform(corpus)
    assert out is corpus
    first = [m.annotations["codes"] for m in corpus.iter_messages()]
    coder.transform(corpus)
    assert [m.annotations["codes"] for m in corpus.iter_messages()] == first
    assert all(set(m.annotations) == {"codes"} for m in corpus.iter_messages())
    coded = [(m, c) for m in corpus.iter_messages() for c in m.codes]
    assert coded, "the small model codes nothing"
    for m, c in coded:
        assert 0.0 <= c.score <= 1.0 and c.evidence
        for e in c.evidence:
            assert m.text[e.start:e.end] == e.text and e.text


@pytest.mark.parametrize(
    "text", ["I\u2019m SORRY\u2026 you NEVER listen \u0130stanbul", "", "  k  ", "?!"])
def test_classifier_word_grams_offsets_exact(text: str) -> None:
    for gram, a, b in word_grams(text):
        words = gram.split(" ")
        span = "".join(c.lower() if len(c.lower()) == 1 else c for c in text[a:b])
        span = span.replace("\u2019", "'")
        assert span.startswith(words[0]) and span.endswith(words[-1])
        if len(words) == 1:
            assert span == gram


def test_classifier_persistence_round_trip(small_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, _, inputs = small_model
    save_model(model, tmp_path)
    assert (tmp_path / "model.npz").stat().st_size < 5_000_000
    loaded = load_model(tmp_path)
    mem = TrainedCoder(model=model).fit()
    disk = TrainedCoder(model=tmp_path).fit()
    assert mem.code_inputs(inputs[:150]) == disk.code_inputs(inputs[:150])
    X = model.featurizer.transform(inputs[:50])
    assert np.array_equal(model.classifier.predict_proba(X),
                          loaded.classifier.predict_proba(loaded.featurizer.transform(inputs[:50])))


def test_classifier_thresholds_and_authoritative_safety(small_model) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = small_model
    coder = TrainedCoder(model=model).fit()
    saved = model.classifier.thresholds_.copy()
    try:
        model.classifier.thresholds_ = np.full(len(model.codes), 1.01)
        codes = coder.code_text("Give me your password or else you'll regret it.")
        assert [c.name for c in codes] == ["safety_risk"]  # rules are authoritative for it
        assert coder.code_text("did you pay the electric bill") == ()
        model.classifier.thresholds_ = np.zeros(len(model.codes))
        assert len(coder.code_text("did you pay the electric bill")) == len(model.codes)
    finally:
        model.classifier.thresholds_ = saved


def test_classifier_context_is_the_other_partner(small_model) -> None:  # type: ignore[no-untyped-def]
    msgs = [Message("c", "c1", "A", None, "I feel so alone when you go quiet"),
            Message("c", "c2", "B", None, "fine")]
    pairs = collect_inputs(Corpus.from_messages(msgs), None)
    assert pairs[0][1].prev_text is None
    assert pairs[1][1].prev_text == "I feel so alone when you go quiet"
    assert isinstance(pairs[1][1], MessageInput)


def test_classifier_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="E450"):
        load_model(tmp_path)
    with pytest.raises(InputError, match="E453"):
        load_corpus(tmp_path)
    (tmp_path / "model.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="E452"):
        load_model(tmp_path)


def test_classifier_cli_train_and_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _slice(tmp_path, ("batch_021.jsonl",))
    out = tmp_path / "model"
    assert main(["train", "--corpus", str(folder), "--out", str(out), "--no-cv",
                 "--no-real"]) == 0
    card = json.loads((out / "model_card.json").read_text(encoding="utf-8"))
    assert card["training_data"]["files"] == ["batch_021.jsonl"]
    assert "safety_risk" in card["authoritative_codes"]
    gold = tmp_path / "gold.jsonl"
    gold.write_text((CORPUS / "batch_022.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    capsys.readouterr()
    assert main(["eval", str(gold), "--engine", "trained", "--model", str(out)]) == 0
    text = capsys.readouterr().out
    assert "kappa" in text and "family confusion" in text
    assert main(["eval", str(gold), "--engine", "trained", "--model", str(tmp_path)]) == 2


@pytest.mark.parametrize("in_batch", [True, False])
def test_classifier_prev_words_are_what_the_message_answers(small_model, in_batch: bool) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = small_model
    featurizer = model.featurizer
    assert featurizer.prev_word_weight > 0
    prev = "you never listen to me when I talk about work"
    reply = MessageInput(text="that's not fair, I always listen", prev_text=prev)
    first = MessageInput(text="did you pay the bill")  # no previous message: an empty block
    rows = [MessageInput(text=prev), reply, first] if in_batch else [reply, first]
    X = featurizer.transform(rows).toarray()
    n_word = featurizer.n_word_
    own = featurizer.transform([MessageInput(text=prev)]).toarray()[0, :n_word]
    block = X[:, -n_word:]
    r = rows.index(reply)
    assert own.any()
    assert np.allclose(block[r], own * featurizer.prev_word_weight)
    assert not block[rows.index(first)].any()


def test_classifier_packaged_model_codes_the_codebook_examples() -> None:
    # the codebook is the contract: its plain examples (those that need no context) are in
    # every training set, and the shipped model must code each one as the codebook says
    from heard.coding._train import codebook_examples

    messages, gold, _ = codebook_examples()
    assert len(messages) >= 60
    coder = TrainedCoder().fit()
    missed = [(m.text, sorted(g)) for m, g in zip(messages, gold, strict=True)
              if not g <= {c.name for c in coder.code_text(m.text)}]
    assert missed == []


def test_classifier_card_matches_the_packaged_model() -> None:
    import heard.coding

    folder = Path(heard.coding.__file__).parent / "data" / "model"
    card = json.loads((folder / "model_card.json").read_text(encoding="utf-8"))
    model = load_model()
    assert card["authoritative_codes"] == list(model.authoritative)
    assert card["authoritative_rules"] == list(model.authoritative_rules)
    assert card["training_data"]["codebook_examples"] == model.meta["training_data"][
        "codebook_examples"] > 0


@pytest.mark.parametrize("text", [
    "whatever. you never listen anyway",
    "I felt really alone at the party, can we talk tonight?",
    "it was one drink. you're making it a thing",
])
def test_classifier_evidence_is_never_only_function_words(text: str) -> None:
    from heard.coding._features import evidence_function_words

    words = evidence_function_words()
    codes = TrainedCoder().fit().code_text(text)
    assert codes
    for code in codes:
        for rule_id in code.rule_ids:
            if rule_id.startswith("model:word:"):
                assert not words.issuperset(rule_id.removeprefix("model:word:").split())
        for ev in code.evidence:
            assert text[ev.start:ev.end] == ev.text
            assert not words.issuperset(ev.text.lower().split())


def test_classifier_fitted_arrays_round_trip_ignores_unknown_settings() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 4))
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(int)
    clf = MultiLabelCodeClassifier(C=2.0, calibration_folds=2).fit(X, Y)
    params = {**clf.get_params(), "setting_of_a_later_heard": 1}
    back = MultiLabelCodeClassifier.from_arrays(params, clf.fitted_arrays())
    assert back.C == 2.0
    assert np.array_equal(back.predict(X), clf.predict(X))
    assert np.allclose(back.predict_proba(X), clf.predict_proba(X))
