"""Evaluation: hand-computed precision, recall and F1; gold loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heard.coding import evaluate, load_gold
from heard.errors import ExportFormatError, InputError

GOLD = [{"criticism"}, {"criticism", "contempt"}, set(), {"bid"}]
PRED = [{"criticism"}, {"contempt"}, {"criticism"}, {"emotional_truth"}]


def test_evaluate_per_code_by_hand() -> None:
    r = evaluate(GOLD, PRED)
    crit = r.code("criticism")  # tp 1 (msg 0), fn 1 (msg 1), fp 1 (msg 2)
    assert (crit.tp, crit.fp, crit.fn, crit.support) == (1, 1, 1, 2)
    assert crit.precision == pytest.approx(0.5) and crit.recall == pytest.approx(0.5)
    assert crit.f1 == pytest.approx(0.5)
    cont = r.code("contempt")
    assert (cont.precision, cont.recall, cont.f1) == (1.0, 1.0, 1.0)
    bid = r.code("bid")
    assert (bid.tp, bid.fn, bid.precision, bid.recall, bid.f1) == (0, 1, 0.0, 0.0, 0.0)
    et = r.code("emotional_truth")
    assert (et.fp, et.support, et.f1) == (1, 0, 0.0)


def test_evaluate_macro_micro_and_families_by_hand() -> None:
    r = evaluate(GOLD, PRED)
    # codes seen: emotional_truth 0, bid 0, criticism 0.5, contempt 1.0
    assert [s.label for s in r.codes] == ["emotional_truth", "bid", "criticism", "contempt"]
    assert r.macro_f1 == pytest.approx(1.5 / 4)
    # pooled: tp 2, fp 2, fn 2 -> 2*2 / (4 + 2 + 2)
    assert r.micro_f1 == pytest.approx(0.5)
    # families: attack gold {0,1}, pred {0,1,2} -> p 2/3, r 1; reach gold {3}, pred {3} -> 1.0
    attack, reach = r.code("attack"), r.code("reach")
    assert attack.precision == pytest.approx(2 / 3) and attack.recall == 1.0
    assert reach.f1 == 1.0
    assert r.family_macro_f1 == pytest.approx((0.8 + 1.0) / 2)
    assert (r.n_messages, r.n_gold, r.n_predicted) == (4, 4, 4)
    assert r.exact_match == pytest.approx(0.25)


def test_evaluate_to_dict_and_text() -> None:
    r = evaluate(GOLD, PRED)
    d = r.to_dict()
    assert d["macro_f1"] == 0.375 and d["codes"][2]["label"] == "criticism"
    json.dumps(d)
    text = r.as_text()
    assert "macro-F1 (codes) 0.375" in text and "criticism" in text and "attack" in text


def test_evaluate_edge_cases() -> None:
    assert evaluate([set()], [set()]).macro_f1 == 0.0
    assert evaluate([{"bid"}], [{"bid"}]).macro_f1 == 1.0
    with pytest.raises(ValueError, match="gold has 1 messages but predicted has 2"):
        evaluate([set()], [set(), set()])


def test_evaluate_load_gold(tmp_path: Path) -> None:
    rows = [
        {
            "conversation_id": "x",
            "message_id": "x1",
            "sender": "A",
            "timestamp": "2026-01-01T10:00:00+00:00",
            "text": "I miss you",
            "gold": ["emotional_truth"],
            "note": "kept",
        },
        {"conversation_id": "x", "message_id": "x2", "sender": "B", "text": "k", "gold": []},
    ]
    path = tmp_path / "g.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    messages, labels = load_gold(path)
    assert [m.text for m in messages] == ["I miss you", "k"]
    assert labels == [{"emotional_truth"}, set()]
    assert messages[0].timestamp is not None and messages[0].extra == {"note": "kept"}


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("{not json", "E303"),
        ('{"text": "hi"}', "E303"),
        ('{"text": "hi", "gold": ["nagging"]}', "E020"),
        ('{"text": "hi", "gold": [], "timestamp": "yesterday"}', "E303"),
    ],
)
def test_evaluate_load_gold_errors(tmp_path: Path, line: str, code: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok", "gold": []}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ExportFormatError) as info:
        load_gold(path)
    assert info.value.code == code and "line 2" in str(info.value)


def test_evaluate_load_gold_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="E001"):
        load_gold(tmp_path / "nope.jsonl")


def test_evaluate_kappa_by_hand() -> None:
    r = evaluate(GOLD, PRED)
    # criticism over 4 messages: tp 1, fp 1, fn 1, tn 1 -> p_o 0.5, p_e 0.5 -> kappa 0
    crit = r.code("criticism")
    assert crit.tn == 1 and crit.kappa == pytest.approx(0.0)
    # contempt: tp 1, tn 3 -> perfect agreement
    assert r.code("contempt").kappa == pytest.approx(1.0)
    # bid: fn 1, tn 3 -> p_o 0.75, p_e 0.75 -> 0
    assert r.code("bid").kappa == pytest.approx(0.0)
    assert evaluate([{"bid"}], [{"bid"}]).code("bid").kappa == 1.0
    assert "kappa" in r.as_text() and r.to_dict()["codes"][2]["kappa"] == 0.0


def test_evaluate_family_confusion_by_hand() -> None:
    gold = [{"criticism"}, {"bid"}, set(), {"validation"}]
    pred = [{"counter_blame"}, set(), {"bid"}, {"validation", "promise"}]
    conf = evaluate(gold, pred).family_confusion
    assert conf["attack"]["defend"] == 1      # criticism read as counter-blame
    assert conf["reach"]["none"] == 1         # a bid missed
    assert conf["none"]["reach"] == 1         # a bid where there was none
    assert conf["hold"]["hold"] == 1          # a hit on the diagonal
    assert conf["none"]["arc"] == 1           # an extra family next to a hit
    assert sum(sum(row.values()) for row in conf.values()) == 5
    assert "family confusion" in evaluate(gold, pred).as_text()


def test_evaluate_bootstrap_intervals_resample_conversations() -> None:
    from heard.coding import bootstrap_intervals

    gold = [{"criticism"}, set(), {"bid"}, {"bid", "emotional_truth"}, set(), {"criticism"}] * 4
    perfect = bootstrap_intervals(gold, gold, [i // 3 for i in range(24)], n_resamples=200)
    assert perfect["macro_f1"] == [1.0, 1.0] and perfect["family_macro_f1"] == [1.0, 1.0]
    noisy = [g if i % 5 else {"contempt"} for i, g in enumerate(gold)]
    groups = [i // 3 for i in range(24)]
    a = bootstrap_intervals(gold, noisy, groups, n_resamples=300, seed=1)
    assert a == bootstrap_intervals(gold, noisy, groups, n_resamples=300, seed=1)
    point = evaluate(gold, noisy)
    assert a["macro_f1"][0] <= point.macro_f1 + 1e-9 and a["macro_f1"][0] < a["macro_f1"][1]
    assert a["n_groups"] == 8 and a["level"] == 0.95
    with pytest.raises(ValueError):
        bootstrap_intervals(gold, noisy, groups[:-1])


def test_evaluate_intervals_in_text_and_dict() -> None:
    gold = [{"criticism"}, set(), {"bid"}, {"criticism"}]
    result = evaluate(gold, [{"criticism"}, set(), set(), {"bid"}], groups=["a", "a", "b", "c"],
                      n_resamples=50)
    assert "intervals" in result.to_dict() and "95% intervals" in result.as_text()
    assert "intervals" not in evaluate(gold, gold).to_dict()
