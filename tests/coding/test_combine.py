"""Where rules raise a code on their own next to a model (heard.coding._combine)."""

from __future__ import annotations

import numpy as np

from heard.coding._combine import choose_authority, rule_raises
from heard.coding._features import MessageInput
from heard.model import Code

SETTINGS = {"rule_threshold": 0.5, "authoritative_margin": 0.005, "rule_precision": 0.8,
            "rule_min_hits": 3}
CODES = ("reframing", "safety_risk")


def _row(rule: str | None, score: float = 0.8, code: str = "reframing") -> MessageInput:
    if rule is None:
        return MessageInput(text="x")
    return MessageInput(text="x", rule_scores={code: score},
                        rule_codes=(Code(code, score, (), (rule,)),))


def test_combine_precise_rule_is_authoritative_loose_one_is_not() -> None:
    # precise rule: 4 hits, all right; loose rule: 16 hits, 1 right; the model finds 4 others
    rows = [_row("precise")] * 4 + [_row("loose")] * 16 + [_row(None)] * 8
    y = np.zeros((28, 2), dtype=np.int8)
    y[:5, 0] = 1
    y[20:24, 0] = 1
    model = np.zeros_like(y)
    model[20:24, 0] = 1
    codes, rules = choose_authority(model, y, rows, CODES, SETTINGS)
    assert codes == ("safety_risk",)  # the code's rules together are too loose
    assert rules == ("precise",)


def test_combine_too_few_hits_or_worse_f1_is_not_authoritative() -> None:
    rows = [_row("rare")] * 2 + [_row(None)] * 10
    y = np.zeros((12, 2), dtype=np.int8)
    y[:2, 0] = 1
    model = y.copy()  # the model already finds them: the rule adds nothing
    codes, rules = choose_authority(model, y, rows, CODES, {**SETTINGS, "rule_min_hits": 3})
    assert rules == () and codes == ("safety_risk",)


def test_combine_rule_raises_only_authoritative_rules_and_codes() -> None:
    rows = [_row("precise"), _row("loose"), _row("precise", 0.3), _row("t", 0.9, "safety_risk")]
    scores, used = rule_raises(rows, CODES, ("safety_risk",), ("precise",), 0.5)
    assert used[:, 0].tolist() == [True, False, False, False]
    assert used[:, 1].tolist() == [False, False, False, True]
    assert scores[0, 0] == 0.8 and scores[3, 1] == 0.9


def test_combine_rows_whose_label_is_unknown_do_not_count_against_a_rule() -> None:
    # a rule hits 5 rows with the code and 15 whose label of it is unknown (text presumed free
    # of other codes says nothing of this one); the model finds 5 more. Among the rows that
    # know, the rule only adds right answers; counted as negatives it would look loose
    rows = [_row("precise")] * 20 + [_row(None)] * 10
    y = np.zeros((30, 2), dtype=np.int8)
    y[:5, 0] = 1
    y[5:20, 0] = -1
    y[20:25, 0] = 1
    model = np.zeros_like(y)
    model[20:25, 0] = 1
    codes, _ = choose_authority(model, y, rows, CODES, SETTINGS)
    assert codes == ("reframing", "safety_risk")
    as_negatives = np.where(y < 0, 0, y).astype(np.int8)
    codes, rules = choose_authority(model, as_negatives, rows, CODES, SETTINGS)
    assert codes == ("safety_risk",) and rules == ()
