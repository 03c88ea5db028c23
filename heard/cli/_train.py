"""``heard train``: rebuild a coder's model from the labeled corpus."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from heard.cli._options import (
    add_embed_model_option,
    embed_model,
)
from heard.cli._shell import EXIT_OK
from heard.cli._terminal import say, tell
from heard.cli._values import whole
from heard.errors import OptionError


def run(args: argparse.Namespace) -> int:
    if args.device != "cpu" and args.engine != "encoder":
        raise OptionError.from_code("E455", option="--device", detail="used with --engine "
                                    "encoder (the other engines train on the CPU)",
                                    value=args.device)
    if args.engine == "embed":
        return _train_embed(args)
    if args.engine == "encoder":
        return _train_encoder(args)
    from heard.coding import train

    args.out = args.out or str(Path(__file__).parent.parent / "coding" / "data" / "model")
    card = train(args.corpus, args.out, seed=args.seed, cv=not args.no_cv,
                 real=args.real_dir, use_real=not args.no_real, log=tell)
    tell(f"heard: trained on {card['training_data']['messages']} messages "
         f"({card['training_data']['couples']} couples); wrote {args.out}")
    _print_cv(card.get("grouped_cv"), "trained")
    return EXIT_OK


def _print_cv(cv: dict[str, Any] | None, engine: str) -> None:
    """One line per engine (``engine`` and the rules beside it) of a training card's CV."""
    if not cv:
        return
    for name in (engine, "rules"):
        r = cv[name]
        say(f"grouped CV ({cv['n_folds']} folds by couple), {name}: macro-F1 codes "
            f"{r['macro_f1']:.3f}, families {r['family_macro_f1']:.3f}")


def _train_encoder(args: argparse.Namespace) -> int:
    from heard.coding import train_encoder

    out = args.out or str(Path(__file__).parent.parent / "coding" / "data" / "encoder")
    meta = train_encoder(args.corpus, out, real=args.real_dir, seed=args.seed,
                         settings={"device": args.device},
                         log=lambda line: tell(f"heard: {line}"))
    data = meta["card"]["training_data"]
    tell(f"heard: fine-tuned the encoder on {sum(data['train'].values())} messages "
         f"(dev {sum(data['dev'].values())}); wrote {out}")
    return EXIT_OK


def _train_embed(args: argparse.Namespace) -> int:
    from heard.coding import train_embed

    out = args.out or str(Path(__file__).parent.parent / "coding" / "data" / "embed")
    card = train_embed(args.corpus, out, embed_model(args), seed=args.seed, cv=not args.no_cv)
    tell(f"heard: trained an embedding head on {card['training_data']['messages']} messages "
         f"({card['training_data']['couples']} couples) with '{card['embed_model']['name']}' "
         f"(fingerprint {card['embed_model']['fingerprint']}); wrote {out}")
    _print_cv(card.get("grouped_cv"), "embed")
    return EXIT_OK


def add_parser(sub: Any) -> argparse.ArgumentParser:
    from heard.coding import engines

    p = sub.add_parser("train", help="rebuild the trained coder's model from the corpus",
                       description="Train the trained coder on the labeled corpus "
                                   "(deterministic for a seed), cross-validate it grouped by "
                                   "couple, and write the model and model_card.json.")
    p.add_argument("--corpus", default="data/corpus", help="labeled corpus folder")
    p.add_argument("--out", help="model folder to write (default: the packaged model, or "
                                 "with --engine embed the packaged embedding head)")
    p.add_argument("--seed", type=whole(0), default=0)
    p.add_argument("--no-cv", action="store_true", help="skip the grouped cross-validation")
    p.add_argument("--engine", choices=[k for k, e in engines().items() if e.trainable],
                   default="trained",
                   help="what to train: the trained coder (default, from the corpus and the "
                        "real text of data/real, minutes; --no-real for the corpus alone), the "
                        "encoder (needs heard[train] and the real-language data of "
                        "data/real, minutes), or a head over sentence embeddings (needs "
                        "heard[embed]; see --embed-model)")
    p.add_argument("--real-dir", metavar="DIR",
                   help="with --engine encoder or trained: the data/real folder (default: the "
                        "source checkout's)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="with --engine encoder: fine-tune on the CPU (default, about 30 "
                        "minutes on 2 cores) or on a CUDA GPU (about a minute)")
    p.add_argument("--no-real", action="store_true",
                   help="with --engine trained: learn from the corpus alone, leaving out the "
                        "real text of data/real")
    add_embed_model_option(p)
    return p
