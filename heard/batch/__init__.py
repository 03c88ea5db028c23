"""A study's corpus on Dask: every couple read, coded and analyzed, into Parquet tables.

``heard batch INPUT -o OUT`` (or :func:`run_batch`) takes a folder of exports, a canonical JSON
Lines file or a Parquet data set of many couples and writes, under ``OUT``, the coded messages,
one row per couple (loop counts, sequential and Gottman–Murray parameters, long-arc verdicts),
the report's "Both partners" rows, an errors table and a corpus summary. The parts run on a
local Dask cluster (one single-thread worker process per core), on a running scheduler
(``scheduler="tcp://HOST:PORT"``), or here (``workers=0``); all three write the same bytes.
A part is whole couples; a killed worker's parts run again elsewhere, and ``resume=True``
finishes a run that was stopped. It needs ``pip install 'heard[batch]'`` (Dask, pyarrow).

Examples
--------
>>> from heard.batch import Settings, read_couple, run_batch
>>> result = run_batch("study.jsonl", "study-out", settings=Settings(seed=1))  # doctest: +SKIP
>>> read_couple("study-out", "couple-000042").num_rows                        # doctest: +SKIP
"""

from heard.batch._part import Settings, run_part
from heard.batch._plan import Part, Plan, Unit, make_plan
from heard.batch._run import PART_MESSAGES, BatchResult, part_done, read_couple, run_batch
from heard.batch._tables import TABLES

__all__ = [
    "PART_MESSAGES",
    "TABLES",
    "BatchResult",
    "Part",
    "Plan",
    "Settings",
    "Unit",
    "make_plan",
    "part_done",
    "read_couple",
    "run_batch",
    "run_part",
]
