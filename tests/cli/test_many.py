"""Many couples in one input: the group check per conversation, `heard code`/`analyze` couple by
couple, `heard import DIR`, and the Python API, on real files and the real CLI."""

from __future__ import annotations

import csv
import gc
import json
import re
import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import heard
from heard._many import iter_couples, report_filename, sort_by_couple
from heard.errors import InputError
from heard.ingest import read_export
from heard.model import Corpus, Summary

SCRIPT = [
    (0, "I felt really alone at the party last night"),
    (1, "that's not what happened, you're overreacting"),
    (0, "I'm not trying to attack you, I just mean I missed you"),
    (1, "you're the one who's distant lately"),
    (0, "whatever. forget it"),
    (1, "ok. want to grab dinner friday?"),
    (0, "can we start over? I don't want to fight"),
    (1, "yes, I'm sorry. I hear you"),
]
PAIRS = [("Maya", "Theo"), ("Ana", "Bo"), ("Sam", "Alex"), ("Noor", "Eli")]
START = datetime(2026, 2, 1, 20, 0, tzinfo=UTC)


def couple_rows(cid: str, names: tuple[str, ...], *, day: int = 0) -> list[dict]:
    return [{"conversation_id": cid, "message_id": f"{cid}-{i}",
             "sender": names[i % len(names)],
             "timestamp": (START + timedelta(days=day, minutes=3 * i)).isoformat(),
             "text": text} for i, (_, text) in enumerate(SCRIPT)]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def corpus_file(tmp_path: Path) -> Path:
    """Four couples, eight different people, one conversation_id each, one after another."""
    rows = [r for k, names in enumerate(PAIRS) for r in couple_rows(f"couple {k}/x", names)]
    return write_jsonl(tmp_path / "study.jsonl", rows)


def round_robin(rows: list, size: int = len(SCRIPT)) -> list:
    """Couples interleaved message by message, each couple's own order kept."""
    return [rows[k * size + i] for i in range(size) for k in range(len(rows) // size)]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


# ------------------------------------------------------------------ the group check


def test_many_import_accepts_many_two_person_conversations(corpus_file: Path) -> None:
    imp = read_export(corpus_file)
    messages = list(imp)  # no E014 though the file has eight senders
    assert len(messages) == 32 and len(imp.report.senders) == 8


def test_many_group_conversation_inside_a_corpus_still_needs_pair(tmp_path: Path, cli) -> None:
    rows = couple_rows("c1", ("Maya", "Theo")) + couple_rows("c2", ("Ana", "Bo", "Cat"))
    path = write_jsonl(tmp_path / "study.jsonl", rows)
    with pytest.raises(InputError, match=r"E014: '.*study.jsonl, conversation c2' has 3 "
                                         r"senders \(Ana, Bo, Cat\).*--pair"):
        list(read_export(path))
    status, _, err = cli("analyze", str(path), "--json", str(tmp_path / "a.jsonl"),
                         "--engine", "rules")
    assert status == 2 and "E014" in err and "conversation c2" in err
    assert not (tmp_path / "a.jsonl").exists()


def test_many_single_group_chat_keeps_its_message(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "group.jsonl", couple_rows("c1", ("Ann", "Ben", "Cat")))
    with pytest.raises(InputError) as err:
        list(read_export(path))
    assert str(err.value).startswith(f"E014: '{path}' has 3 senders (Ann, Ben, Cat)")


def test_many_reused_conversation_ids_are_kept_apart_by_couple_id(tmp_path: Path) -> None:
    rows = [{**r, "couple_id": f"k{k}"} for k, names in enumerate(PAIRS[:2])
            for r in couple_rows("day1", names)]
    for i, r in enumerate(rows):
        r["message_id"] = f"m{i}"
    path = write_jsonl(tmp_path / "study.jsonl", rows)
    assert len(list(read_export(path))) == 16  # "day1" holds four people, but two couples
    run = heard.analyze_many(path, coder=heard.coding.RuleCoder(), dynamics=False)
    assert [(r.couple_id, r.senders) for r in run] == [("k0", ("Maya", "Theo")),
                                                       ("k1", ("Ana", "Bo"))]


# ------------------------------------------------------------------ heard analyze


def test_many_analyze_writes_json_lines_table_and_reports(corpus_file: Path, tmp_path: Path,
                                                          cli) -> None:
    out, table, folder = tmp_path / "per.jsonl", tmp_path / "t.csv", tmp_path / "reports"
    status, stdout, err = cli("analyze", str(corpus_file), "--engine", "rules",
                              "--no-dynamics", "--json", str(out), "--table", str(table),
                              "--per-couple", str(folder))
    assert status == 0 and stdout == ""
    assert "4 couples" in err and "4 analyzed" in err
    results = lines(out)
    assert [r["couple_id"] for r in results] == [f"couple {k}/x" for k in range(4)]
    assert [tuple(r["senders"]) for r in results] == PAIRS
    assert all(r["analysis"]["overview"]["messages"] == 8 for r in results)
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert [(r["couple_id"], r["partner"]) for r in rows] == [
        (f"couple {k}/x", name) for k, pair in enumerate(PAIRS) for name in pair]
    assert all(r["messages"] == "4" for r in rows)
    # the table is the report's "Both partners" figures, keyed by couple and partner
    first = results[0]["analysis"]["patterns"]["partners"]["Maya"]
    assert int(rows[0]["reaches"]) == first["reaches"]
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"couple-{k}-x.html" for k in range(4)]
    html = (folder / "couple-1-x.html").read_text("utf-8")
    assert "Ana" in html and "Maya" not in html


def test_many_analysis_equals_analyzing_the_couple_alone(corpus_file: Path) -> None:
    when = datetime(2026, 3, 1, tzinfo=UTC)
    coder = heard.coding.RuleCoder()
    results = list(heard.analyze_many(corpus_file, coder=coder, dynamics=False,
                                      generated_at=when))
    alone = Corpus([c for c in heard.load(corpus_file).conversations if c.id == "couple 2/x"])
    alone.meta["imports"] = results[2].analysis.corpus.meta["imports"]
    expected = heard.analyze(alone, coder=coder, dynamics=False, generated_at=when)
    assert results[2].analysis.to_dict() == expected.to_dict()


def test_many_table_as_json_lines(corpus_file: Path, tmp_path: Path, cli) -> None:
    status, _, _ = cli("analyze", str(corpus_file), "--engine", "rules", "--no-dynamics",
                       "--table", str(tmp_path / "t.jsonl"))
    rows = lines(tmp_path / "t.jsonl")
    assert status == 0 and len(rows) == 8
    assert rows[0]["couple_id"] == "couple 0/x" and rows[0]["partner"] == "Maya"
    assert rows[0]["safety_concern"] is False


def test_many_per_couple_never_overwrites_silently(corpus_file: Path, tmp_path: Path,
                                                   cli) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "couple-0-x.html").write_text("mine", encoding="utf-8")
    args = ("analyze", str(corpus_file), "--engine", "rules", "--no-dynamics",
            "--per-couple", str(folder))
    status, _, err = cli(*args)
    assert status == 2 and "E028" in err and "--overwrite" in err
    assert (folder / "couple-0-x.html").read_text("utf-8") == "mine"
    status, _, err = cli(*args, "--overwrite")
    assert status == 0 and "(1 replaced)" in err
    assert (folder / "couple-0-x.html").read_text("utf-8") != "mine"


def test_many_analyze_needs_somewhere_to_write(corpus_file: Path, cli) -> None:
    status, _, err = cli("analyze", str(corpus_file), "--engine", "rules")
    assert status == 2 and "E030" in err and "--per-couple" in err


def test_many_one_sided_couple_gets_its_error_and_the_rest_go_on(tmp_path: Path, cli) -> None:
    rows = couple_rows("c1", PAIRS[0]) + couple_rows("c2", ("Ana",)) + couple_rows("c3",
                                                                                 PAIRS[2])
    path = write_jsonl(tmp_path / "study.jsonl", rows)
    status, _, err = cli("analyze", str(path), "--engine", "rules", "--no-dynamics", "--json",
                         str(tmp_path / "a.jsonl"))
    results = lines(tmp_path / "a.jsonl")
    assert status == 0 and "2 analyzed, 1 could not be:" in err
    # the errors are a table of the summary: the couple, then its numbered error
    assert re.search(r"^heard: Couple +Why it could not be analyzed$", err, re.M)
    assert re.search(r"^heard: c2 +E013: ", err, re.M)
    assert results[1]["couple_id"] == "c2" and results[1]["error"].startswith("E013")
    assert "analysis" in results[0] and "analysis" in results[2]


def test_many_single_couple_behaves_as_before(tmp_path: Path, cli) -> None:
    path = write_jsonl(tmp_path / "chat.jsonl", couple_rows("c1", PAIRS[0])
                       + couple_rows("c2", PAIRS[0], day=3))
    status, _, _ = cli("analyze", str(path), "--engine", "rules", "--no-dynamics", "-o",
                       str(tmp_path / "r.html"), "--json", str(tmp_path / "a.json"))
    data = json.loads((tmp_path / "a.json").read_text("utf-8"))  # one object, not lines
    assert status == 0 and data["overview"]["conversations"] == 2
    assert data["overview"]["messages"] == 16 and (tmp_path / "r.html").exists()


def test_many_by_couple_splits_couples_with_the_same_names(tmp_path: Path, cli) -> None:
    path = write_jsonl(tmp_path / "study.jsonl", couple_rows("c1", ("A", "B"))
                       + couple_rows("c2", ("A", "B")))
    status, _, _ = cli("analyze", str(path), "--engine", "rules", "--no-dynamics",
                       "--by-couple", "--json", str(tmp_path / "a.jsonl"))
    assert status == 0 and [r["couple_id"] for r in lines(tmp_path / "a.jsonl")] == ["c1",
                                                                                     "c2"]


def test_many_interleaved_input_is_sorted_and_gives_the_same_results(
        corpus_file: Path, tmp_path: Path, cli) -> None:
    rows = lines(corpus_file)
    shuffled = write_jsonl(tmp_path / "shuffled.jsonl", round_robin(rows))
    for path, out in ((corpus_file, "a.jsonl"), (shuffled, "b.jsonl")):
        status, _, _ = cli("analyze", str(path), "--engine", "rules", "--no-dynamics",
                           "--json", str(tmp_path / out))
        assert status == 0

    def comparable(path: Path) -> list[dict]:
        out = []
        for r in lines(path):
            a = r["analysis"]
            out.append({"id": r["couple_id"], "patterns": a["patterns"],
                        "codes": a["code_counts"]})
        return out

    assert comparable(tmp_path / "a.jsonl") == comparable(tmp_path / "b.jsonl")


# ------------------------------------------------------------------ heard code


def test_many_code_streams_every_conversation(corpus_file: Path, tmp_path: Path, cli) -> None:
    rows = lines(corpus_file)
    shuffled = write_jsonl(tmp_path / "shuffled.jsonl", round_robin(rows))
    status, out, _ = cli("code", str(shuffled), "--engine", "rules")
    coded = [json.loads(x) for x in out.splitlines()]
    expected = heard.code(heard.load(shuffled), coder=heard.coding.RuleCoder())
    assert status == 0
    # (sorted: ``code_names`` is a set)
    assert [(r["message_id"], sorted(c["code"] for c in r["codes"])) for r in coded] == [
        (m.message_id, sorted(m.code_names)) for m in expected.iter_messages()]
    status, out2, _ = cli("code", str(corpus_file), "--engine", "rules", "--presorted")
    assert status == 0 and len(out2.splitlines()) == 32


def test_many_code_then_analyze_with_given_codes(corpus_file: Path, tmp_path: Path,
                                                 cli) -> None:
    coded = tmp_path / "coded.jsonl"
    assert cli("code", str(corpus_file), "--engine", "rules", "-o", str(coded))[0] == 0
    status, _, err = cli("analyze", str(coded), "--given-codes", "--no-dynamics", "--json",
                         str(tmp_path / "a.jsonl"))
    results = lines(tmp_path / "a.jsonl")
    assert status == 0 and "4 analyzed." in err
    assert {r["analysis"]["coder"] for r in results} == {"given"}
    direct = lines(tmp_path / "a.jsonl")[0]["analysis"]["code_counts"]
    assert direct == json.loads(json.dumps(heard.analyze(
        Corpus([heard.load(corpus_file).conversations[0]]), coder=heard.coding.RuleCoder(),
        dynamics=False).code_counts()))


# ------------------------------------------------------------------ heard import DIR


def test_many_import_folder_of_exports(tmp_path: Path, cli) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_jsonl(folder / "maya theo.jsonl", couple_rows("x", PAIRS[0]))
    (folder / "ana_bo.txt").write_text(
        "".join(f"{['Ana', 'Bo'][w]}: {t}\n" for w, t in SCRIPT), encoding="utf-8")
    (folder / "broken.jsonl").write_text('{"sender": "A", "text": "hi"}\n{oops\n', "utf-8")
    write_jsonl(folder / "group.jsonl", couple_rows("g", ("Ann", "Ben", "Cat")))
    (folder / ".DS_Store").write_bytes(b"\0\0")
    out = tmp_path / "all.jsonl"
    status, _, err = cli("import", str(folder), "-o", str(out))
    assert status == 0
    assert "imported 2 of 4 exports" in err and "2 could not be imported" in err
    assert "broken.jsonl: not imported: E005" in err and "group.jsonl: not imported: E014" in err
    records = lines(out)
    assert {r["couple_id"] for r in records} == {"ana_bo", "maya_theo"}
    assert len(records) == 16 and not any(r["sender"] in ("A", "Ann") for r in records)
    status, _, err = cli("analyze", str(out), "--engine", "rules", "--no-dynamics", "--table",
                         str(tmp_path / "t.csv"))
    assert status == 0 and "2 couples" in err


def test_many_import_folder_where_nothing_imports_fails(tmp_path: Path, cli) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "broken.jsonl").write_text("{oops\n", encoding="utf-8")
    status, _, err = cli("import", str(folder), "-o", str(tmp_path / "out.jsonl"))
    assert status == 2 and "imported 0 of 1 exports" in err


# ------------------------------------------------------------------ the Python API


def test_many_api_results_summary_and_dict(corpus_file: Path) -> None:
    run = heard.analyze_many(corpus_file, coder=heard.coding.RuleCoder(), dynamics=False)
    ids = [r.couple_id for r in run if r.ok]
    assert ids == [f"couple {k}/x" for k in range(4)]
    assert run.to_dict()["analyzed"] == 4 and run.to_dict()["complete"] is True
    summary = run.summary()
    assert isinstance(summary, Summary)
    assert summary.as_text().startswith("4 couples in ") and str(summary) == summary.as_text()
    assert "<p>4 couples in " in summary.as_html() and "<table>" not in summary.as_html()


def test_many_api_summary_lists_errors_as_an_escaped_table(tmp_path: Path) -> None:
    rows = couple_rows("c1", PAIRS[0]) + couple_rows("<b>c2", ("Ana",))
    run = heard.analyze_many(write_jsonl(tmp_path / "study.jsonl", rows),
                             coder=heard.coding.RuleCoder(), dynamics=False)
    assert [r.ok for r in run] == [True, False]
    text, html = run.summary().as_text(), run.summary().as_html()
    assert "1 analyzed, 1 could not be:" in text and re.search(r"^<b>c2 +E013: ", text, re.M)
    assert '<th scope="row">&lt;b&gt;c2</th><td>E013: ' in html and "<b>c2" not in html
    with pytest.raises(RuntimeError):
        list(run)


def test_many_api_keeps_no_analysis_once_handed_out(corpus_file: Path) -> None:
    run = heard.analyze_many(corpus_file, coder=heard.coding.RuleCoder(), dynamics=False)
    refs = []
    for result in run:
        refs.append(weakref.ref(result.analysis))
        del result
    gc.collect()
    assert len(refs) == 4 and all(r() is None for r in refs)


def test_many_api_one_pass_stream_must_keep_couples_together(corpus_file: Path) -> None:
    messages = list(read_export(corpus_file))
    interleaved = round_robin(messages)
    with pytest.raises(InputError, match="E027: input: couple 'couple 0/x' comes back"):
        list(heard.analyze_many(iter(interleaved), coder=heard.coding.RuleCoder(),
                                dynamics=False))
    run = heard.analyze_many(iter(interleaved), coder=heard.coding.RuleCoder(),
                             dynamics=False, presorted=False)
    assert [r.messages for r in run] == [8, 8, 8, 8]


def test_many_sort_by_couple_spills_to_disk_and_keeps_order(corpus_file: Path) -> None:
    messages = list(read_export(corpus_file))
    interleaved = round_robin(messages)
    out = list(sort_by_couple(interleaved, run=3))
    assert [m.message_id for m in out] == [m.message_id for m in
                                           Corpus.from_messages(interleaved).iter_messages()]
    assert [k for k, _ in iter_couples(out)] == [f"couple {k}/x" for k in range(4)]


@pytest.mark.parametrize(("couple", "expected"), [
    ("../../etc/passwd", "etc-passwd.html"),
    ("couple 7", "couple-7.html"),
    ("CON", "couple_CON.html"),
    ("", "couple.html"),
    ("ü/ß", "u.html"),
    ("☂/", "couple.html"),
])
def test_many_report_filename_is_safe(couple: str, expected: str) -> None:
    assert report_filename(couple, set()) == expected


def test_many_report_filename_never_reuses_a_name() -> None:
    used: set[str] = set()
    assert [report_filename(c, used) for c in ("a b", "a/b", "A-B")] == [
        "a-b.html", "a-b-2.html", "A-B-3.html"]
