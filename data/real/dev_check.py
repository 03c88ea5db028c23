"""Dev figures on train-side text only: what a training setting is chosen on before its one
held-out run (``data/DATASHEET.md`` quotes them).

Six dev sets, fixed by hashes of conversation ids so they never move, none trained on, and
no held-out (``test``) source read:

- A: 30% of the labeled ``reddit_sarcasm`` threads: F1 of the fight moves in replies;
- F: 30% of the labeled ``movie_dialogs`` exchanges (film dialogue between two characters):
  macro-F1 over codes and families, and F1 of the fight moves;
- B: up to 6,000 ``chitchat`` and 1,500 ``sms`` messages (7,394 today) of conversations with
  no labeled or presumed message: the share given a conflict code, and any code;
- C: 30% of the ``commonsense_dialogues`` conversations: the same shares;
- G: the labeled turns of 40% of the ``sbcsae_groups`` recordings (real talk among people
  who know each other, recorded; by recording): macro-F1, how many codes a model gives and how
  many of them the labels have, and, over every turn of those recordings, the share given a
  conflict code and any code;
- D: 30% of the ``cmu_dog`` conversations, two people talking about a film's facts: the same
  shares, on the kind of everyday talk where strangers' arguments (Reddit) taught conflict. It
  stands for other fact talk only while no ``cmu_dog`` text is trained on: with its other 70%
  as conflict-free rows, D showed 0.43% where held-out everyday talk gave 4.3%. Its
  ``"trained_on_source"`` says whether a setting trains on it.

Run from the repository root, with the real texts built (``real_data.py fetch`` and
``build``); a fit takes about 8 minutes on a 2-core CPU::

    .venv/bin/python data/real/dev_check.py                                  # as shipped
    .venv/bin/python data/real/dev_check.py --set conflict_free=null         # without it
    .venv/bin/python data/real/dev_check.py --set real_sources_left_out=[]   # Reddit in
    .venv/bin/python data/real/dev_check.py --set 'conflict_free=[{"source": \
        "commonsense_dialogues", "messages": 8000}, {"source": "cmu_dog", "messages": 8000}]'
    .venv/bin/python data/real/dev_check.py --labeled-fraction 0.25           # learning curve

``--set KEY=JSON`` overrides one of ``heard.coding._train.SETTINGS``. ``--labeled-fraction``
keeps that share of the labeled training conversations (by a salted hash of their ids, so a
smaller share is a subset of a larger one) and everything else as it would be: how the dev
figures grow with labeled real text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from heard.coding import TrainedCoder, evaluate
from heard.coding._real import (
    RealItem,
    _conflict,
    _everyday_sample,
    calibration_pool,
    presumed_conflict_free,
    real_corpus,
    training_items,
)
from heard.coding._train import (
    SETTINGS,
    conflict_free_specs,
    corpus_inputs,
    fit_model,
    load_corpus,
    real_inputs,
    real_rows,
    unknown_where_set,
    with_codebook_examples,
    with_real_rows,
)

REPO = Path(__file__).resolve().parents[2]
FIGHT_CODES = ("contempt", "proving_wrong", "counter_blame", "criticism", "reframing")


def _share(key: str) -> float:
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def _unlabeled(source: str, taken: set[str], lo: float, hi: float, n: int,
               prefix: str = "ev") -> list[RealItem]:
    """Up to ``n`` messages of the ``source`` conversations whose hash falls in [lo, hi).

    ``prefix`` salts the hash; G's recordings are drawn unsalted, as its labeled turns are.
    """
    return _everyday_sample(source, taken, n, seed=5, label=f"{source}_dev", folder=None,
                            keep=lambda conv: lo <= _share(prefix + conv) < hi)


def _coded(model: Any, items: list[RealItem]) -> list[set[str]]:
    corpus, targets = real_corpus(items)
    TrainedCoder(model=model).fit().transform(corpus)
    return [set(t.code_names) for t in targets]


def _held_back(model: Any, items: list[RealItem]) -> Any:
    """The model's scores on labeled items it did not learn from (intervals by conversation)."""
    return evaluate([set(i.gold) for i in items], _coded(model, items),
                    groups=[i.conversation for i in items])


def _fight_f1(result: Any) -> dict[str, float]:
    return {c["label"]: round(c["f1"], 3) for c in result.to_dict()["codes"]
            if c["label"] in FIGHT_CODES}


def _shares(coded: list[set[str]]) -> dict[str, float]:
    return {"conflict": round(sum(map(_conflict, coded)) / len(coded), 4),
            "any": round(sum(map(bool, coded)) / len(coded), 4), "messages": len(coded)}


def labeled_share(items: list[RealItem], labeled: set[str], fraction: float) -> list[RealItem]:
    """``items`` with whole conversations of the ``labeled`` ones (by id) kept at ``fraction``.

    The others (presumed negatives) all stay: the learning curve is of labeled text only. The
    hash is salted apart from the dev sets', and a smaller share keeps a subset of a larger one.
    """
    if fraction >= 1.0:
        return list(items)
    return [i for i in items if i.id not in labeled or _share("curve" + i.conversation) < fraction]


def dev_check(settings: dict[str, Any], labeled_fraction: float = 1.0) -> dict[str, Any]:
    s = {**SETTINGS, **settings}
    def read(files: list[str] | None) -> list[RealItem]:
        return training_items(presumed=int(s["presumed_negatives"]),
                              source=s["presumed_negative_source"], label_files=files)

    # the dev sets come from every label file, whichever files a setting trains on, so that
    # they are the same sets for every setting
    every = read(None)
    items = every if s["label_files"] is None else read(s["label_files"])
    dev_a = [i for i in every if i.source == "reddit_sarcasm" and _share(i.conversation) < 0.3]
    dev_f = [i for i in every if i.source == "movie_dialogs" and _share(i.conversation) < 0.3]
    dev_g = [i for i in every if i.source == "sbcsae_groups" and _share(i.conversation) < 0.4]
    held = {i.id for i in dev_a + dev_f + dev_g}
    if labeled_fraction < 1.0:
        items = labeled_share(items, {i.id for i in training_items(label_files=s["label_files"])},
                              labeled_fraction)
    train = unknown_where_set([i for i in items if i.id not in held
                               and i.source not in s["real_sources_left_out"]], s)
    taken = {i.conversation for i in every}
    dev_b = (_unlabeled("chitchat", taken, 0.5, 1.0, 6000)
             + _unlabeled("sms", taken, 0.5, 1.0, 1500))
    dev_c = _unlabeled("commonsense_dialogues", set(), 0.0, 0.3, 100_000)
    dev_d = _unlabeled("cmu_dog", set(), 0.0, 0.3, 100_000)
    dev_g_all = _unlabeled("sbcsae_groups", set(), 0.0, 0.4, 100_000, prefix="")
    away = [RealItem("", "", c, "train", "", "", (), frozenset())
            for c in {i.conversation for i in dev_c + dev_d + dev_g_all}]
    for spec in conflict_free_specs(s):
        train += presumed_conflict_free(train + away, spec["source"], int(spec["messages"]))
    corpus = load_corpus(REPO / "data" / "corpus")
    messages, gold, couples = with_codebook_examples(*corpus, s)
    inputs, gold, couples, unknown = with_real_rows(
        corpus_inputs(messages, s["rule_feature_threshold"]), gold, couples, real_rows(train, s))
    everyday: list[Any] = []
    if budget := s["everyday_budget"]:
        # thresholds are raised on messages of none of the dev sets, so B, C and D still
        # measure what the budget does to everyday talk no step has seen
        pool = calibration_pool(train + away + dev_b, budget["source"], int(budget["messages"]))
        everyday = real_inputs(pool, s["rule_feature_threshold"])[0]
    model = fit_model(inputs, gold, couples, seed=0, settings=s, everyday=everyday,
                      unknown=unknown, corpus_rows=len(corpus[0]))
    out: dict[str, Any] = {"settings": settings, "labeled_fraction": labeled_fraction,
                           "training_rows": len(train),
                           "A_reddit_held_back": _fight_f1(_held_back(model, dev_a))}
    if dev_f:
        ef = _held_back(model, dev_f)
        out["F_movies_held_back"] = {
            "messages": len(dev_f), "macro_f1_codes": round(ef.macro_f1, 3),
            "macro_f1_families": round(ef.family_macro_f1, 3), **_fight_f1(ef)}
    if dev_g:
        eg = _held_back(model, dev_g)
        given = eg.to_dict()
        out["G_spoken_held_back"] = {
            "messages": len(dev_g), "macro_f1_codes": round(eg.macro_f1, 3),
            "macro_f1_families": round(eg.family_macro_f1, 3),
            "micro_f1": round(eg.micro_f1, 3),
            "codes_given": sum(c["tp"] + c["fp"] for c in given["codes"]),
            "codes_right": sum(c["tp"] for c in given["codes"]),
            "codes_labeled": sum(c["tp"] + c["fn"] for c in given["codes"]),
            "every_turn": _shares(_coded(model, dev_g_all))}
    return {**out,
            "B_chitchat_sms": _shares(_coded(model, dev_b)),
            "C_commonsense_held_back": _shares(_coded(model, dev_c)),
            "D_cmu_dog_held_back": {
                **_shares(_coded(model, dev_d)),
                "trained_on_source": any(spec["source"] == "cmu_dog"
                                         for spec in conflict_free_specs(s))}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override one training setting (repeatable)")
    ap.add_argument("--labeled-fraction", type=float, default=1.0, metavar="P",
                    help="keep this share (0 <= P <= 1) of the labeled training conversations")
    args = ap.parse_args()
    if not 0.0 <= args.labeled_fraction <= 1.0:
        ap.error(f"--labeled-fraction {args.labeled_fraction}: give a share from 0 to 1")
    settings: dict[str, Any] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        if key not in SETTINGS:
            ap.error(f"--set {key}: not a training setting ({', '.join(SETTINGS)})")
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:
            ap.error(f"--set {key}: {value!r} is not JSON (write strings in quotes, null for off)")
    print(json.dumps(dev_check(settings, args.labeled_fraction), indent=1))


if __name__ == "__main__":
    main()
