"""The encoder coder (encoder + screen + safety rules): load time and throughput on one core.

Run: ``python bench/bench_encoder.py [--messages 20000] [--everyday 0.8] [--threads 1]``;
``--engine trained`` times the default engine (the trained model with its rules) on the same
chat, one process, one core (it has no screen and no threads to set).
A two-person chat is built at run time: ``--everyday`` of its messages are everyday talk
(logistics, plans, small talk, texting), the rest are moves of the loop, with typical context.
Prints the model load time, messages/s with the screen and without it, the share of messages
the screen sent to the encoder, and peak RSS. Targets (issue 10): load < 1 s; >= 3,000 msg/s on
one core for an 80% everyday chat.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from datetime import UTC, datetime, timedelta

from heard.coding import EncoderCoder, TrainedCoder
from heard.model import Corpus, Message

EVERYDAY = [
    "just landed", "home in 20", "ok", "sure", "no worries", "k", "omw", "running late, sorry",
    "don't forget the dentist tomorrow", "the plumber comes thursday between 9 and 12",
    "what do you want for dinner?", "did you pay the electric?", "can you grab milk?",
    "I'll be back around 7", "lol did you see that video mom sent", "thanks!", "good morning",
    "kids are asleep", "parking is a nightmare here", "want me to get takeaway?",
    "the game starts at 8", "yep", "see you soon", "left my keys at work again haha",
    "traffic is insane today", "can you call the vet tomorrow", "love the photo",
    "we need to book the flights for june", "ur mum called", "meeting ran over, leaving now",
]
MOVES = [
    "I felt really alone at the party last night", "you always make everything about you",
    "you're overreacting, it's not a big deal", "that's not what happened, I said seven",
    "it's not my fault the traffic was insane", "you're the one who's distant lately",
    "whatever", "forget it. it doesn't matter anymore", "are you mad at me?",
    "I was short with you earlier, that's on me", "what was that like for you?",
    "I'm here, I'm not going anywhere", "I can't do this anymore", "I'll do better, I promise",
    "can we start over? I don't want to fight", "I'm not trying to attack you, I just mean it hurt",
]


def chat(n: int, everyday: float, seed: int) -> Corpus:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    messages = []
    for i in range(n):
        text = rng.choice(EVERYDAY if rng.random() < everyday else MOVES)
        messages.append(Message(f"c{i // 500}", f"m{i}", "AB"[rng.random() < 0.5],
                                start + timedelta(minutes=3 * i), text))
    return Corpus.from_messages(messages)


def _timed(coder: EncoderCoder | TrainedCoder, args: argparse.Namespace) -> tuple[float, float]:
    """Messages per second coding a fresh chat, and the share of its messages coded."""
    corpus = chat(args.messages, args.everyday, args.seed)
    t0 = time.perf_counter()
    coder.transform(corpus)
    took = time.perf_counter() - t0
    coded = sum(1 for m in corpus.iter_messages() if m.code_names)
    return args.messages / took, coded / args.messages


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--everyday", type=float, default=0.8)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--engine", choices=["encoder", "trained"], default="encoder")
    args = p.parse_args()
    t0 = time.perf_counter()
    coder = (EncoderCoder(threads=args.threads) if args.engine == "encoder"
             else TrainedCoder()).fit()
    load = time.perf_counter() - t0
    print(f"{args.engine} model load: {load:.2f} s")
    coder.transform(chat(200, args.everyday, args.seed + 1))  # warm-up
    if args.engine == "trained":
        rate, coded = _timed(coder, args)
        print(f"trained: {rate:,.0f} msg/s ({args.messages} messages, {args.everyday:.0%} "
              f"everyday); {coded:.1%} of messages coded")
    else:
        for use_screen in (True, False):
            coder.use_screen = use_screen
            coder.fit()  # a changed setting needs a new fit (E060); not timed
            rate, coded = _timed(coder, args)
            print(f"screen {'on ' if use_screen else 'off'}: {rate:,.0f} msg/s "
                  f"({args.messages} messages, {args.everyday:.0%} everyday, {args.threads} "
                  f"thread(s)); {coded:.1%} of messages coded")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MB")


if __name__ == "__main__":
    main()
