"""Rule coder, then trained coder: throughput and peak memory on generated messages.

Run: ``python bench/bench_coding.py [--messages 100000] [--seed 7]``. Texts are built at run
time from a phrase bank (openers, bodies, tails, texting spellings), in two-person
conversations with timestamps, so context tracking is exercised too. Prints messages/s on one
core (the process is single-threaded) and the peak traced memory. Target: >= 5,000 messages/s.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from heard.coding import RuleCoder
from heard.model import Corpus, Message

OPENERS = ["", "", "", "hey ", "ok so ", "honestly ", "babe ", "look, ", "um ", "so "]
BODIES = [
    "I felt really alone at the party last night",
    "you didn't text when you were running late",
    "can we talk tonight?",
    "did you pay the electric bill",
    "you always make everything about you",
    "wow great job genius",
    "it's not my fault the traffic was insane",
    "that's not what happened, I said seven not six",
    "you're overreacting, it's not a big deal",
    "you're the one who's distant lately",
    "whatever",
    "fine.",
    "k",
    "I'm not trying to attack you, I just mean it hurt",
    "sorry for being so emotional, I know you're tired",
    "are you mad at me? you seem off",
    "can we start over? I don't want to fight",
    "forget it. it doesn't matter anymore",
    "that makes sense, I can see why that hurt",
    "I was short with you earlier, that's on me",
    "what was that like for you?",
    "I'm here, I'm not going anywhere",
    "I need twenty minutes to calm down, then I want to finish this",
    "I noticed I've been distant this week",
    "I won't keep talking while you're yelling",
    "I can't do this anymore",
    "I'll do better, I promise",
    "what time is dinner",
    "picking up milk on the way home",
    "lol did you see that video mom sent",
    "the kids need to be at school at 8 tomorrow",
    "ur never here when i need u",
    "im so tired of asking for help with the dishes",
    "i miss us",
    "running late, be there in 10",
    "thanks for making dinner, it was really good",
]
TAILS = ["", "", "", ".", "!", "?", " lol", " 🙄", " ❤️", " tbh", "...", " idk"]


def generate(n: int, seed: int) -> Corpus:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    messages: list[Message] = []
    conv, when, turn = 0, start, 0
    for i in range(n):
        if i % 40 == 0:
            conv += 1
            when += timedelta(days=1)
        when += timedelta(seconds=rng.randint(5, 900))
        turn += rng.random() < 0.7
        parts = [rng.choice(BODIES) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        text = rng.choice(OPENERS) + ", ".join(parts) + rng.choice(TAILS)
        if rng.random() < 0.3:
            text = text.lower().replace("'", "")
        messages.append(Message(f"c{conv}", f"c{conv}-{i}", ("Sam", "Alex")[turn % 2], when, text))
    return Corpus.from_messages(messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-trained", action="store_true", help="rules engine only")
    args = parser.parse_args()

    corpus = generate(args.messages, args.seed)
    chars = sum(len(m.text) for m in corpus.iter_messages())
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    coder = RuleCoder().fit(corpus)
    fit_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    coder.transform(corpus)
    elapsed = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    coded = sum(1 for m in corpus.iter_messages() if m.codes)
    # traced separately (tracemalloc slows Python down) on a slice, for the coder's own allocations
    sample = generate(min(args.messages, 10_000), args.seed + 1)
    tracemalloc.start()
    coder.transform(sample)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    rate = args.messages / elapsed
    print(f"messages          {args.messages:,} ({chars / args.messages:.0f} chars on average)")
    print(f"rules             {len(coder.rule_set_.rules)} rules, fit in {fit_s:.2f} s")
    print(f"throughput        {rate:,.0f} messages/s (one core, {elapsed:.2f} s)")
    print(
        f"peak RSS          {rss_after:.0f} MiB for the whole process "
        f"({rss_before:.0f} MiB before fit, corpus included)"
    )
    print(
        f"traced peak       {peak / 2**20:.1f} MiB allocated while coding {len(sample):,} messages"
    )
    print(f"messages with >=1 code  {coded / args.messages:.0%}")
    print("target            >= 5,000 messages/s:", "met" if rate >= 5000 else "NOT met")
    if not args.skip_trained:
        bench_trained(args)


def bench_trained(args: argparse.Namespace) -> None:
    """The trained engine on the same generated messages: model load time and throughput."""
    from pathlib import Path

    from heard.coding import TrainedCoder, load_model

    corpus = generate(args.messages, args.seed)
    import heard.coding

    folder = Path(heard.coding.__file__).parent / "data" / "model"
    size = sum(f.stat().st_size for f in folder.glob("model.*"))
    t0 = time.perf_counter()
    load_model()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    coder = TrainedCoder().fit(corpus)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    coder.transform(corpus)
    elapsed = time.perf_counter() - t0
    rate = args.messages / elapsed
    coded = sum(1 for m in corpus.iter_messages() if m.codes)
    # where the time goes, on a slice: the rule scores the model reads, then the model itself
    from heard.coding._features import collect_inputs

    part = generate(min(args.messages, 10_000), args.seed + 2)
    n_part = len(part)
    t0 = time.perf_counter()
    pairs = collect_inputs(part, coder._rules)
    rules_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    coder.code_inputs([p for _, p in pairs])
    model_s = time.perf_counter() - t0
    print()
    print(f"trained model     {size / 2**20:.2f} MiB on disk ({folder})")
    print(f"model load        {load_s:.2f} s (model only); {fit_s:.2f} s with the rules it uses")
    print(f"throughput        {rate:,.0f} messages/s (one core, {elapsed:.2f} s, rules included)")
    print(f"  split           rule features {1e6 * rules_s / n_part:.0f} us/message, features + "
          f"model + evidence {1e6 * model_s / n_part:.0f} us/message ({n_part:,} messages)")
    print(f"messages with >=1 code  {coded / args.messages:.0%}")
    print("target            >= 5,000 messages/s:", "met" if rate >= 5000 else "NOT met",
          "; load < 1 s:", "met" if load_s < 1.0 else "NOT met")


if __name__ == "__main__":
    main()
