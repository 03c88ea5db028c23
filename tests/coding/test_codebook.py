"""The codebook as data: 24 codes in 8 families, explain()."""

from __future__ import annotations

import pytest

from heard.coding import codebook, explain

FAMILIES = {
    "reach": ["emotional_truth", "complaint", "bid"],
    "attack": ["criticism", "contempt"],
    "defend": ["escaping_blame", "proving_wrong", "reframing", "counter_blame", "withdrawal"],
    "overfunction": ["over_explaining", "caretaking", "tracking", "repair_attempt"],
    "harden": ["hardening"],
    "hold": ["validation", "ownership", "curiosity", "staying", "proactive_naming"],
    "arc": ["boundary", "breaking_point", "promise"],
    "safety": ["safety_risk"],
}


def test_codebook_has_24_codes_in_8_families() -> None:
    cb = codebook()
    assert len(cb.codes) == 24 and len(cb.families) == 8
    assert [f.name for f in cb.families] == list(FAMILIES)
    for family, codes in FAMILIES.items():
        assert cb.codes_in(family) == tuple(codes)


@pytest.mark.parametrize("name", [c for cs in FAMILIES.values() for c in cs])
def test_codebook_explain_code(name: str) -> None:
    text = explain(name)
    assert text.splitlines()[0].startswith(f"{name} ({codebook().family_of(name)}): ")
    assert "Examples: " in text


@pytest.mark.parametrize("name", list(FAMILIES))
def test_codebook_explain_family(name: str) -> None:
    assert explain(name).startswith(f"{name}: ")


def test_codebook_unknown_name() -> None:
    with pytest.raises(KeyError):
        explain("nagging")
    with pytest.raises(KeyError, match="unknown code"):
        codebook().code("nagging")
    assert "nagging" not in codebook()


@pytest.mark.parametrize("error", ["E051", "E302"])
def test_codebook_packaged_json_missing_file_is_a_numbered_error(error: str) -> None:
    from heard.coding._codebook import packaged_json
    from heard.errors import DataFileError

    assert packaged_json("features.json")["note"]
    with pytest.raises(DataFileError, match=f"{error}.*no_such.json") as info:
        packaged_json("lexicons", "no_such.json", error=error)
    assert "\n" not in str(info.value)


def test_codebook_lives_in_the_model_layer_and_round_trips() -> None:
    """Every layer reads the codebook from heard.model; heard.coding re-exports the same object."""
    import json

    from heard import coding, model

    cb = model.codebook()
    assert coding.codebook() is cb
    data = cb.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert [c["name"] for c in data["codes"]] == list(cb.names)
    assert [s["step"] for s in data["loop"]] == list(cb.loop_steps)


def test_codebook_loop_defines_the_pattern_layers_steps() -> None:
    from heard.model import codebook
    from heard.patterns import LOOP_STEPS

    cb = codebook()
    assert LOOP_STEPS == cb.loop_steps == ("reach", "defend", "overfunction", "harden",
                                           "counter_blame")
    members = {s.name: s.members for s in cb.loop}
    assert members["defend"] == ("defend", "attack")
    known = {f.name for f in cb.families} | set(cb.names)
    assert all(m in known for s in cb.loop for m in s.members)
