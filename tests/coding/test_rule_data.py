"""Rule data: schema validation reports every bad row with file and line; coverage of codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spacy.matcher import Matcher

from heard.coding import RuleCoder, codebook
from heard.coding._negation import TokenView, token_view
from heard.coding._rule_data import _expand, lexicons, shared_nlp
from heard.coding._rule_load import load_rule_set
from heard.errors import DataFileError, RuleSyntaxError

GOOD = {
    "id": "bid.walk",
    "code": "bid",
    "phrases": ["(take|go for) a walk"],
    "score": 0.7,
    "note": "an invitation",
}


def test_rule_data_packaged_rules_load_and_cover_every_code() -> None:
    rule_set = load_rule_set()
    covered = {r.code for r in rule_set.rules}
    assert covered == set(codebook().names)
    assert len({r.id for r in rule_set.rules}) == len(rule_set.rules)
    assert all(r.note and 0 < r.score <= 1 for r in rule_set.rules)


def test_rule_data_every_code_is_reachable() -> None:
    """Each code has a rule that fires on its own (no context needed) for some phrase."""
    requires_context = {r.code for r in load_rule_set().rules if r.context is None}
    assert requires_context == set(codebook().names)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**GOOD, "code": "nagging", "id": "nagging.x"}, "'code' must be one of"),
        ({**GOOD, "id": "criticism.walk"}, "'id' must look like 'bid.some_name'"),
        ({**GOOD, "score": 1.5}, "'score' must be a number in (0, 1]"),
        ({**GOOD, "score": True}, "'score' must be a number"),
        ({**GOOD, "note": ""}, "'note' must say why"),
        ({**GOOD, "colour": "red"}, "unknown field(s) ['colour']"),
        ({**GOOD, "pattern": [{"NORM": "x"}]}, "exactly one of"),
        ({k: v for k, v in GOOD.items() if k != "phrases"}, "exactly one of"),
        ({**GOOD, "phrases": []}, "'phrases' must be a non-empty list"),
        ({**GOOD, "phrases": ["{nonexistent} walk"]}, "unknown lexicon or slot"),
        ({**GOOD, "phrases": ["(take|go for walk"]}, "unbalanced parentheses"),
        ({**GOOD, "phrases": ["{self_harm_phrases}"]}, "multi-word entries"),
        (
            {"id": "bid.p", "code": "bid", "pattern": [{"NORMAL": "x"}], "score": 0.5, "note": "n"},
            "invalid spaCy token pattern",
        ),
        (
            {"id": "bid.l", "code": "bid", "lexicon": "nope", "score": 0.5, "note": "n"},
            "unknown lexicon",
        ),
        ({**GOOD, "negatable": "yes"}, "'negatable' must be true or false"),
        ({**GOOD, "anchor": "middle"}, "'anchor' must be"),
        ({**GOOD, "scope": "paragraph"}, "'scope' must be"),
        ({**GOOD, "suppresses": ["blame"]}, "unknown code 'blame'"),
        ({**GOOD, "context": {"after": ["@friends"]}}, "unknown code group '@friends'"),
        ({**GOOD, "context": {"after": ["bid"], "mode": "maybe"}}, "mode' must be"),
        ({**GOOD, "context": {"after": ["bid"], "mode": "boost"}}, "non-zero for boost"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_rule_data_rejects_bad_row(row: object, message: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        load_rule_set([row])
    assert info.value.code == "E300"
    assert message in str(info.value) and "<rules> line 1" in str(info.value)


def test_rule_data_reports_all_bad_rows_with_file_and_line(tmp_path: Path) -> None:
    rows = [
        json.dumps(GOOD),
        '{"id": "bid.broken", ',
        json.dumps({**GOOD, "id": "bid.two", "score": 3}),
        "",
        json.dumps({**GOOD, "id": "bid.three"}),
        json.dumps(GOOD),
    ]
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(RuleSyntaxError) as info:
        load_rule_set(path)
    text = str(info.value)
    assert text.startswith("E300: 3 bad row(s)")
    assert "mine.jsonl line 2: not JSON" in text
    assert "mine.jsonl line 3: 'score'" in text
    assert "mine.jsonl line 6: duplicate id 'bid.walk' (first at mine.jsonl line 1)" in text
    assert isinstance(info.value, DataFileError)


def test_rule_data_folder_of_files(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({**GOOD, "id": "bid.other"}) + "\n", encoding="utf-8"
    )
    assert [r.id for r in load_rule_set(tmp_path).rules] == ["bid.walk", "bid.other"]


def test_rule_data_coder_raises_on_bad_rules() -> None:
    with pytest.raises(RuleSyntaxError):
        RuleCoder(rules=[{**GOOD, "score": 0}]).fit()


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("a (b|c d) e", ["a b e", "a c d e"]),
        ("a (b|c)", ["a {=b|c}"]),
        ("a (b|c)?", ["a {=b|c?}"]),
        ("x (y z|w (p|q r))?", ["x y z", "x w p", "x w q r", "x"]),
        ("x (y|z) (p|q r)", ["x {=y|z} p", "x {=y|z} q r"]),
    ],
)
def test_rule_data_template_expansion(template: str, expected: list[str]) -> None:
    assert sorted(_expand(template)) == sorted(expected)


def test_rule_data_lexicons_are_lowercase_and_unique() -> None:
    lex = lexicons()
    for name in (
        "feeling",
        "negators",
        "contrast",
        "threat_phrases",
        "self_harm_phrases",
        "control_phrases",
        "insult",
        "trait",
    ):
        assert lex[name], name
        assert list(lex[name]) == sorted(set(lex[name])), name


SENTENCES = [
    "You always make everything about you, what is wrong with you?",
    "I'm sorry, but you started it. I'm done talking about this.",
    "ur never here when i need u, i feel so alone tbh",
    "I need twenty minutes to calm down, then I want to finish this",
    "k",
    "fine.",
    "I can't do this anymore. maybe we should separate",
    "let's take a breath, I don't want to fight with you 🙄",
    "I said seven, not six. actually I did text you at 6:40",
]


def test_rule_data_triggered_matcher_equals_plain_matcher() -> None:
    """Bucketing patterns by trigger words, as regexes, must not lose or add a match.

    spaCy's Matcher also reports the shorter matches from a start; the regex buckets report
    the longest, which is what every hit filter and evidence span needs.
    """
    coder = RuleCoder().fit()
    nlp = shared_nlp()
    plain = Matcher(nlp.vocab)
    for rule in coder.rule_set_.rules:
        if rule.patterns:
            plain.add(rule.id, [list(p) for p in rule.patterns])
    by_key = coder._by_key
    corpus = Path(__file__).resolve().parents[2] / "data" / "corpus" / "batch_007.jsonl"
    texts = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines()]
    for text in [*SENTENCES, *texts]:
        doc = nlp.make_doc(text)
        view = token_view(doc, coder._overrides)
        # whole-message rules run only on short messages: compare what survives the anchor
        def kept(matches: list[tuple[int, int, int]], view: TokenView = view) -> set:
            longest: dict[tuple[int, int], int] = {}
            for key, start, end in matches:
                longest[key, start] = max(end, longest.get((key, start), end))
            return {(key, start, end) for (key, start), end in longest.items()
                    if view.anchored(start, end, by_key[key].anchor)}

        assert kept(coder._matcher(doc, view)) == kept(plain(doc)), text
