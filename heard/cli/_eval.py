"""``heard eval``: score a coder against hand labels, held-out real text, or by CV."""

from __future__ import annotations

import argparse
import json
from typing import Any

from heard.cli._options import (
    add_engine_options,
    chosen_engine,
    embed_model,
    report_engine,
)
from heard.cli._output import output
from heard.cli._shell import EXIT_OK
from heard.cli._terminal import say, tell
from heard.cli._values import whole
from heard.errors import OptionError


def run(args: argparse.Namespace) -> int:
    from heard.api import code
    from heard.coding import evaluate, load_gold
    from heard.model import Corpus

    if args.update_card and not args.real:
        raise OptionError.from_code("E455", option="--update-card", detail="used with --real "
                                    "(it stores the held-out figures)", value=True)
    if args.gold is None and not args.cv and not args.real:
        raise OptionError.from_code("E455", option="heard eval", detail="given a GOLD file, "
                                    "--real, or --cv to cross-validate on the corpus",
                                    value=None)
    out: dict[str, Any] = {}
    if args.real:
        from heard.api import default_coder
        from heard.coding import evaluate_real

        coder = chosen_engine(args) or default_coder()
        folder = getattr(coder, "model_folder", None) if args.update_card else None
        if args.update_card and folder is None:  # before minutes of coding, not after
            raise OptionError.from_code("E455", option="--update-card", detail="used with "
                                        "the encoder or trained engine", value=args.engine)
        real = evaluate_real(coder, folder=args.real_dir)
        out["real"] = real.to_dict()
        if folder is not None:
            from heard.coding import write_measured

            tell(f"heard: wrote {write_measured(folder, real.summary())}")
        if not args.json:
            say(real.as_text())
    if args.gold is not None:
        messages, gold = load_gold(args.gold)
        coder = chosen_engine(args)
        corpus = code(Corpus.from_messages(messages), coder=coder)
        report_engine(coder)
        predicted = [set(m.code_names) for m in corpus.iter_messages()]
        result = evaluate(gold, predicted, groups=[m.conversation_id for m in messages])
        out["gold"] = result.to_dict()
        if not args.json:
            say(result.as_text())
    if args.cv:
        from heard.coding import cross_validate, cross_validate_embed

        cv: Any = cross_validate_embed(args.corpus, embed_model(args), seed=args.seed) \
            if args.engine == "embed" else cross_validate(args.corpus, seed=args.seed,
                                                          log=tell)
        out["cv"] = cv.to_dict()
        if not args.json:
            say(cv.as_text())
    if args.json:
        with output(None) as stream:
            json.dump(out[next(iter(out))] if len(out) == 1 else out, stream, indent=1)
            stream.write("\n")
    return EXIT_OK


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("eval", help="score the coder against a hand-labeled JSONL file")
    p.add_argument("gold", nargs="?", help="JSONL with a 'gold' list of codes per message")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")
    add_engine_options(p)
    p.add_argument("--cv", action="store_true",
                   help="also cross-validate the trained engine (with --engine embed: the "
                        "embedding engine) on the corpus, grouped by couple")
    p.add_argument("--corpus", default="data/corpus", help="labeled corpus folder for --cv")
    p.add_argument("--seed", type=whole(0), default=0, help="seed of the --cv folds")
    p.add_argument("--real", action="store_true",
                   help="score on the held-out real sources of data/real (each separately, "
                        "with intervals) and count false alarms on held-out everyday text")
    p.add_argument("--real-dir", metavar="DIR",
                   help="with --real: the data/real folder (default: the source checkout's)")
    p.add_argument("--update-card", action="store_true",
                   help="with --real and the encoder or trained engine: store the held-out "
                        "figures beside the model, where the report quotes them")
    return p
