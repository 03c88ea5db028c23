"""The registry of engines: one list that the CLI, the API, the report and the app read."""

from __future__ import annotations

import pytest

import heard
from heard.cli import build_parser
from heard.coding import default_engine, engine_info, engines, make_engine
from heard.errors import OptionError
from heard.model import Message, Step


def test_registry_every_engine_builds_and_names_itself() -> None:
    assert default_engine().key == "trained"
    for key, info in engines().items():
        if info.required or info.fit_now:
            continue  # needs a server or a local model the user names (see test_coder_contract)
        engine = make_engine(key)
        assert isinstance(engine, Step) and type(engine).__name__ == info.class_name
        assert engine_info(info.class_name) is info and engine_info(key) is info
        assert info.label and info.versioned_key.startswith(f"{key}@")


def test_registry_unknown_engine_lists_the_known_ones() -> None:
    with pytest.raises(OptionError, match=r"^E454: unknown engine 'nope'\. Choose one of: "
                                          r"trained, encoder, rules, embed, llm\.$"):
        engine_info("nope")


def test_registry_is_what_the_cli_offers() -> None:
    parser = build_parser()
    code = next(a for a in parser._subparsers._group_actions[0].choices["code"]._actions
                if "--engine" in a.option_strings)
    assert list(code.choices) == list(engines())
    train = next(a for a in parser._subparsers._group_actions[0].choices["train"]._actions
                 if "--engine" in a.option_strings)
    # only engines with a model to build: the rules and a user's language model have none
    assert list(train.choices) == ["trained", "encoder", "embed"]
    assert all(engines()[k].trainable for k in train.choices)


@pytest.mark.parametrize(("coder", "label"), [("rules", "heard's rules"),
                                               ("given", "codes given with the input")])
def test_registry_names_the_engine_in_the_analysis_and_the_report(coder, label) -> None:
    from datetime import UTC, datetime

    from heard.report import render_html

    msgs = [Message("c1", "c1-1", "Ana", datetime(2026, 1, 1, 9, tzinfo=UTC),
                    "I felt alone at the party"),
            Message("c1", "c1-2", "Jo", datetime(2026, 1, 1, 9, 3, tzinfo=UTC),
                    "that's not what happened")]
    if coder == "given":
        for m in msgs:
            m.annotations["codes"] = ()
        analysis = heard.analyze(msgs, given_codes=True, dynamics=False)
    else:
        analysis = heard.analyze(msgs, coder=make_engine(coder), dynamics=False)
    info = engine_info(coder)
    assert analysis.settings["coder_key"] == info.versioned_key
    assert analysis.settings["coder_label"] == label
    assert f"Codes from {label}" in render_html(analysis).replace("&#39;", "'")
