"""heard batch in this process (--workers 0): its tables are the single-process analysis."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from conftest import couple_records, files_of, write_corpus, write_jsonl

import heard
from heard.batch import Settings, make_plan, read_couple, run_batch

FAST = Settings(engine="rules", dynamics=True, n_permutations=20)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Five couples in one JSON Lines file, and the batch run over it in this process."""
    root = tmp_path_factory.mktemp("study")
    src = write_corpus(root / "study.jsonl", 5, messages=40)
    out = root / "out"
    run_batch(src, out, workers=0, part_messages=60, settings=FAST)
    return src, out


def test_batch_tables_equal_analyze_many(study: tuple[Path, Path]) -> None:
    import pyarrow.parquet as pq

    from heard.coding import make_engine

    src, out = study
    many = list(heard.analyze_many(str(src), coder=make_engine("rules"), n_permutations=20))
    assert all(r.ok for r in many)
    partners = pq.read_table(out / "partners").drop_columns(["part"]).to_pylist()
    assert partners == [row for r in many for row in r.rows()]
    messages = pq.read_table(out / "messages").to_pylist()
    want = [(r.couple_id, m.message_id, [c.to_dict() for c in m.codes])
            for r in many for m in r.analysis.corpus.iter_messages()]
    assert [(m["couple_id"], m["message_id"], m["codes"]) for m in messages] == want
    couples = pq.read_table(out / "couples").to_pylist()
    assert [c["couple_id"] for c in couples] == [r.couple_id for r in many]
    for c, r in zip(couples, many, strict=True):
        dyn = r.analysis.dynamics.to_dict()
        assert json.loads(c["dynamics_json"]) == json.loads(json.dumps(dyn, default=str))
        assert len(c["sequential"]) == len(dyn["sequential"]["tests"])
        assert {g["partner"] for g in c["long_arc"]} == set(r.senders)
        assert c["loops_partial"] == r.analysis.patterns.to_dict()["counts"]["loops_partial"]


def test_batch_summary_and_errors_tables(study: tuple[Path, Path]) -> None:
    import pyarrow.parquet as pq

    _, out = study
    summary = {(r["measure"], r["code"]): r for r in pq.read_table(out / "summary.parquet")
               .to_pylist()}
    assert summary[("couples", None)]["value"] == 5
    assert summary[("couples_analyzed", None)]["share"] == 1.0
    n = pq.read_table(out / "messages").num_rows
    assert summary[("messages", None)]["value"] == n
    coded = sum(1 for m in pq.read_table(out / "messages").to_pylist()
                for c in m["codes"] if c["code"] == "escaping_blame")
    assert summary[("messages_with_code", "escaping_blame")]["value"] == coded
    assert pq.read_table(out / "errors.parquet").num_rows == 0


def test_batch_read_couple_reads_one_couple(study: tuple[Path, Path]) -> None:
    import pyarrow.parquet as pq

    _, out = study
    table = read_couple(out, "couple-000003")
    all_rows = pq.read_table(out / "messages").to_pylist()
    assert table.num_rows == sum(m["couple_id"] == "couple-000003" for m in all_rows) > 0
    assert set(table.column("couple_id").to_pylist()) == {"couple-000003"}
    assert read_couple(out, "nobody").num_rows == 0
    # one row group per couple: a filter on couple_id reads one of them
    part = pq.read_table(out / "couples", filters=[("couple_id", "=", "couple-000003")])
    path = next((out / "messages").glob(f"part={part.column('part')[0].as_py():05d}/*.parquet"))
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == len({m["couple_id"] for m in pq.read_table(path).to_pylist()})


def test_batch_runs_the_same_bytes_twice(study: tuple[Path, Path], tmp_path: Path) -> None:
    src, out = study
    again = tmp_path / "again"
    run_batch(src, again, workers=0, part_messages=60, settings=FAST)
    assert files_of(again) == files_of(out)


def test_batch_interleaved_lines_read_as_grouped(study: tuple[Path, Path],
                                                 tmp_path: Path) -> None:
    """Couples whose lines are mixed through the file: each reads its ranges, in file order."""
    import pyarrow.parquet as pq

    src, out = study
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    by_couple: dict[str, list[str]] = {}
    for line in lines:
        by_couple.setdefault(json.loads(line)["conversation_id"], []).append(line)
    rng = random.Random(3)
    mixed, queues = [], [list(v) for v in by_couple.values()]
    while any(queues):
        q = rng.choice([q for q in queues if q])
        mixed.append(q.pop(0))
    (tmp_path / "mixed.jsonl").write_text("".join(mixed), encoding="utf-8")
    plan = make_plan(tmp_path / "mixed.jsonl", part_messages=60)
    assert max(len(u.ranges) for p in plan.parts for u in p.units) > 1
    run_batch(tmp_path / "mixed.jsonl", tmp_path / "o", workers=0, part_messages=60,
              settings=FAST)
    got = pq.read_table(tmp_path / "o" / "partners").drop_columns(["part"]).to_pylist()
    want = pq.read_table(out / "partners").drop_columns(["part"]).to_pylist()
    assert sorted(got, key=lambda r: (r["couple_id"], r["partner"])) == \
        sorted(want, key=lambda r: (r["couple_id"], r["partner"]))


def test_batch_parquet_and_folder_inputs_read_like_jsonl(study: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    src, out = study
    records = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines()]
    for r in records:
        r.pop("reactions")  # an empty list column has no type to write
    data = tmp_path / "pq"
    data.mkdir()
    half = len(records) // 2  # a couple split over two files stays one couple
    pq.write_table(pa.Table.from_pylist(records[:half]), data / "a.parquet", row_group_size=17)
    pq.write_table(pa.Table.from_pylist(records[half:]), data / "b.parquet", row_group_size=17)
    folder = tmp_path / "exports"
    folder.mkdir()
    for i in range(5):
        write_jsonl(folder / f"couple-{i:06d}.jsonl", couple_records(i, 40))
    want = pq.read_table(out / "partners").drop_columns(["part"]).to_pylist()
    for source, name in ((data, "from-parquet"), (folder, "from-folder")):
        run_batch(source, tmp_path / name, workers=0, part_messages=60, settings=FAST)
        got = pq.read_table(tmp_path / name / "partners").drop_columns(["part"]).to_pylist()
        assert got == want, name
        ids = pq.read_table(tmp_path / name / "messages").column("message_id").to_pylist()
        assert ids == pq.read_table(out / "messages").column("message_id").to_pylist()
