"""The committed real-language labels (data/real/labels) and source list: well-formed, held-out
sources marked, no text committed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from heard.coding import codebook

REAL = Path(__file__).resolve().parents[2] / "data" / "real"


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (REAL / "labels" / name).read_text().splitlines()
            if line.strip()]


@pytest.fixture(scope="module")
def sources() -> list[dict]:
    return json.loads((REAL / "sources.json").read_text())["sources"]


def test_real_sources_are_pinned_licensed_and_held_out(sources: list[dict]) -> None:
    roles = {s["role"] for s in sources}
    assert roles == {"train", "test"}
    assert len(sources) >= 5
    assert sum(s["role"] == "test" for s in sources) >= 3
    for s in sources:
        assert s["licence"] and s["covers"]
        assert s.get("commit") or s.get("version")
        name = (s.get("repo", "") + s.get("package", "") + s["name"]).lower()
        for reserved in ("meld", "friends", "dailydialog", "daily_dialog"):
            assert reserved not in name


@pytest.mark.parametrize("name", sorted(p.name for p in (REAL / "labels").glob("*.jsonl")))
def test_real_labels_are_codebook_codes_keyed_by_source_ids(name: str,
                                                            sources: list[dict]) -> None:
    known = set(codebook().names)
    ids = {s["id"] for s in sources}
    rows = _rows(name)
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert set(r) == {"id", "codes", "annotator"}  # no text in the repository
        assert r["id"].split(":", 1)[0] in ids
        assert set(r["codes"]) <= known


def test_real_labels_cover_enough_of_each_role(sources: list[dict]) -> None:
    role = {s["id"]: s["role"] for s in sources}
    rows = _rows("pass1.jsonl")
    test = [r for r in rows if role[r["id"].split(":", 1)[0]] == "test"]
    assert len(rows) >= 4000
    assert len(test) >= 800
    second = {r["id"] for r in _rows("pass2.jsonl")}
    assert len(second) >= 500
    assert second <= {r["id"] for r in rows}


def test_training_draws_unlabeled_text_from_train_sources_only(sources: list[dict]) -> None:
    from heard.coding._train import SETTINGS, conflict_free_specs

    role = {s["id"]: s["role"] for s in sources}
    named = [SETTINGS["presumed_negative_source"]] + [
        spec["source"] for spec in conflict_free_specs(SETTINGS)]
    if SETTINGS["everyday_budget"]:
        named.append(SETTINGS["everyday_budget"]["source"])
    named += SETTINGS["real_sources_left_out"]
    assert named and all(role[n] == "train" for n in named)


def test_each_utterance_is_labeled_once_and_coded_again_only_blind(sources: list[dict]) -> None:
    """Waves never label an utterance twice; a second pass codes only first-pass utterances."""
    first: list[str] = []
    for path in sorted((REAL / "labels").glob("pass1*.jsonl")):
        first += [r["id"] for r in _rows(path.name)]
    assert len(first) == len(set(first))
    for path in sorted((REAL / "labels").glob("pass2*.jsonl")):
        assert {r["id"] for r in _rows(path.name)} <= set(first), path.name


def test_held_out_films_are_labeled_as_the_test_source(sources: list[dict]) -> None:
    films = next(s for s in sources if s["id"] == "movie_dialogs_test")["test_movies"]
    for path in sorted((REAL / "labels").glob("pass1*.jsonl")):
        for r in _rows(path.name):
            source, rest = r["id"].split(":", 1)
            if source.startswith("movie_dialogs"):
                film = rest.split("-", 1)[0]
                assert (film in films) == (source == "movie_dialogs_test"), r["id"]


def _learned_labels(sources: list[dict], settings: dict) -> tuple[set[str], list[str]]:
    """The real sources ``settings`` learn from, and the ids of the labeled rows they read there
    (their label files; no text needed: an id names its source and conversation)."""
    from heard.coding._real import _labels

    learned = {s["id"] for s in sources if s["role"] == "train"} - set(
        settings["real_sources_left_out"])
    ids = [uid for uid in _labels(REAL / "labels", "pass1", settings["label_files"])
           if uid.split(":", 1)[0] in learned]
    return learned, ids


def test_encoder_settings_rebuild_the_shipped_cards_labeled_rows(sources: list[dict]) -> None:
    """The labeled real rows the encoder's settings read, split as its training splits them,
    are the rows its packaged card says it learned from."""
    from heard.coding._encoder import ENCODER_JSON, _packaged_dir
    from heard.coding._encoder_train import SETTINGS, _dev

    card = json.loads((_packaged_dir() / ENCODER_JSON).read_text("utf-8"))["card"]
    learned, ids = _learned_labels(sources, SETTINGS)
    counts: dict[str, Counter[str]] = {"train": Counter(), "dev": Counter()}
    for uid in ids:
        side = "dev" if _dev(uid.rsplit(":", 1)[0], SETTINGS["dev_share"]) else "train"
        counts[side][uid.split(":", 1)[0]] += 1
    for side in ("train", "dev"):
        shipped = {k: v for k, v in card["training_data"][side].items() if k in learned}
        assert counts[side] == shipped, side


def test_default_settings_rebuild_the_shipped_cards_labeled_rows(sources: list[dict]) -> None:
    """A later labeling wave does not change what ``heard train`` rebuilds: the labeled real
    rows the default engine's settings read are the rows its packaged card counts."""
    from heard.coding._codebook import packaged_json
    from heard.coding._train import SETTINGS

    card = packaged_json("model", "model_card.json")
    learned, ids = _learned_labels(sources, SETTINGS)
    shipped = card["training_data"]["real_text"]["by_source"]
    assert Counter(uid.split(":", 1)[0] for uid in ids) == {
        k: v for k, v in shipped.items() if k in learned}
