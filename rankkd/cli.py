"""The ``rankkd`` command: one subcommand per script, imported only when called (so ``rankkd --help`` is instant)."""

from __future__ import annotations

import importlib
import sys
from typing import Sequence

#: subcommand -> (module under rankkd.commands, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "evaluate": ("evaluate", "evaluate and compare TREC runs with ranx (markdown, JSON, PNG)"),
    "rerank": ("rerank", "re-rank a run with a pointwise cross-encoder / sequence classifier"),
    "rerank-listwise": ("rerank_listwise", "re-rank a run with a listwise LLM (sliding window or single token)"),
    "train-listwise": ("train_listwise", "listwise / pairwise distillation (Rank-DistiLLM, TWOLAR, multi-stage)"),
    "train-pointwise": ("train_pointwise", "pointwise KD: alpha*T^2*KL + (1-alpha)*ranking loss (DeAR-P)"),
    "train-curriculum": ("train_curriculum", "multi-stage curricula from a YAML file (CL->KD, KD->CL)"),
    "train-listwise-sft": ("train_listwise_sft", "SFT of a listwise LLM re-ranker on teacher windows (DeAR-L)"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: rankkd <command> [options]   (rankkd <command> --help for its options)", "", "commands:"]
    lines += [f"  {name:<{width}}  {description}" for name, (_, description) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0
    if args[0] in {"-V", "--version"}:
        from rankkd import __version__

        print(f"rankkd {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"rankkd: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"rankkd.commands.{COMMANDS[name][0]}")
    result = module.main(rest)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
