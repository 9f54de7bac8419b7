"""Import existing teacher data into rankkd datasets: the staged ``../shared/data`` folders and Hub datasets.

* Shared folders: every ``teacher*.jsonl`` of a collection becomes one split (``teacher.all.jsonl`` -> ``teacher_all``)
  in the example schema (candidates in first-stage order when the folder has ``run.bm25.txt``, ``teacher_ranks``,
  ``rationale`` for CoT window files; ``labels`` only with ``--with-qrels``: the TREC DL qrels are *test* qrels).
  Output: ``OUT/<folder>/`` per collection.
* Hub datasets (``--hub-id``, e.g. ``abdoelsayed/DeAR-COT`` or a Rank-DistiLLM release): rows already in the example
  schema are validated and kept; teacher rankings (``qid``, ``query``, ``docids`` without texts) are joined with
  ``--hub-corpus``; chat / instruction data (``messages``, ``conversations``, or ``instruction``/``input``/
  ``output``) become prompt/completion SFT rows. Output: ``OUT/hub-<owner>--<name>/``.

    python data_recipes/import_shared.py --shared ../shared/data --out data/shared
    python data_recipes/import_shared.py --hub-id abdoelsayed/DeAR-COT --out data/hub
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402  (the recipes' shared helpers live next to this script)

REPO = Path(__file__).resolve().parents[1]
_ROLE = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system",
         "model": "assistant"}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default=None, help="The shared data folder (e.g. ../shared/data).")
    parser.add_argument("--folders", default=None, help="Comma-separated collections (default: all with teachers).")
    parser.add_argument("--with-qrels", action="store_true", help="Add `labels` from the folder's qrels.txt.")
    parser.add_argument("--depth", type=int, default=None, help="Keep the first N candidates per row.")
    parser.add_argument("--hub-id", default=None, help="A Hub dataset id to import.")
    parser.add_argument("--hub-config", default=None)
    parser.add_argument("--hub-split", default="train")
    parser.add_argument("--hub-corpus", default=None, help="corpus.jsonl for Hub teacher rankings without texts.")
    parser.add_argument("--hub-queries", default=None, help="queries.tsv for Hub rankings without query texts.")
    _common.add_output_args(parser)
    return parser


def split_name(path: Path) -> str:
    """``teacher_cot.gpt-3.5-turbo.jsonl`` -> ``teacher_cot_gpt_3_5_turbo`` (a valid datasets split name)."""
    return re.sub(r"\W+", "_", path.name[: -len(".jsonl")]).strip("_")


def import_folder(folder: Path, *, with_qrels: bool, depth: int | None) -> tuple[object, dict]:
    """A DatasetDict with one split per teacher file of ``folder``, and the provenance."""
    import datasets

    from rankkd.data.errors import RepairReport
    from rankkd.data.io import read_corpus, read_qrels, read_queries, read_run
    from rankkd.data.schema import build_examples
    from rankkd.data.teacher import read_teacher

    report = RepairReport(source=str(folder))
    queries = read_queries(folder / "queries.tsv")
    corpus = read_corpus(folder / "corpus.jsonl", report=report)
    run = read_run(folder / "run.bm25.txt", report=report) if (folder / "run.bm25.txt").is_file() else None
    qrels = read_qrels(folder / "qrels.txt", report=report) if with_qrels and (folder / "qrels.txt").is_file() \
        else None
    splits = {}
    files = sorted(folder.glob("teacher*.jsonl"))
    for path in files:
        records = read_teacher(path, corpus_ids=set(corpus), report=report)
        splits[split_name(path)] = build_examples(queries, corpus, run=run, teacher=records, qrels=qrels,
                                                  depth=depth, report=report)
    provenance = {"folder": str(folder), "teacher_files": [p.name for p in files], "run": run is not None,
                  "labels": qrels is not None, "depth": depth, "repairs": dict(report.counts)}
    return datasets.DatasetDict(splits), provenance


def _messages(value: object) -> list[dict[str, str]]:
    """ShareGPT (``from``/``value``) or OpenAI (``role``/``content``) turns as ``role``/``content`` dicts."""
    turns = []
    for turn in value:  # type: ignore[union-attr]
        role = _ROLE.get(str(turn.get("role", turn.get("from", ""))).lower())
        content = turn.get("content", turn.get("value"))
        if role is None or content is None:
            raise ValueError(f"unrecognised chat turn {str(turn)[:80]}")
        turns.append({"role": role, "content": content})
    return turns


def import_hub(args: argparse.Namespace) -> tuple[object, dict]:
    """Map a Hub dataset onto the example schema or onto prompt/completion rows (see the module docstring)."""
    import datasets

    from rankkd.data.errors import DataFormatError, RepairReport
    from rankkd.data.io import read_corpus, read_queries
    from rankkd.data.schema import EXAMPLE_COLUMNS, build_examples, validate_examples
    from rankkd.data.teacher import read_teacher

    ds = datasets.load_dataset(args.hub_id, args.hub_config, split=args.hub_split)
    columns = set(ds.column_names)
    report = RepairReport(source=args.hub_id)
    source = f"{args.hub_id}[{args.hub_split}]"
    if set(EXAMPLE_COLUMNS) <= columns:
        validate_examples(ds)
        kind = "example-schema"
    elif {"qid", "query", "docids"} <= columns:
        if not args.hub_corpus:
            raise SystemExit(f"{args.hub_id} has teacher rankings without passage texts: give --hub-corpus")
        corpus = read_corpus(args.hub_corpus, report=report)
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            # the JSONL reader validates and repairs (and names the row) exactly as for local teacher files
            ds.to_json(f"{tmp}/teacher.jsonl", lines=True)
            records = read_teacher(f"{tmp}/teacher.jsonl", corpus_ids=set(corpus), report=report)
        queries = read_queries(args.hub_queries) if args.hub_queries else {r.qid: r.query for r in records}
        ds = build_examples(queries, corpus, teacher=records, depth=args.depth, report=report)
        kind = "teacher-rankings"
    elif columns & {"messages", "conversations"} or {"instruction", "output"} <= columns:
        def to_sft(row: dict) -> dict:
            if "messages" in row or "conversations" in row:
                turns = _messages(row.get("messages") or row.get("conversations"))
            else:
                user = row["instruction"] + (f"\n\n{row['input']}" if row.get("input") else "")
                turns = ([{"role": "system", "content": row["system"]}] if row.get("system") else []) + \
                    [{"role": "user", "content": user}, {"role": "assistant", "content": row["output"]}]
            if not turns or turns[-1]["role"] != "assistant":
                raise DataFormatError(source, None, "conversation does not end with an assistant turn",
                                      "the last turn to be the answer to learn")
            return {"prompt": turns[:-1], "completion": turns[-1:]}

        ds = ds.map(to_sft, remove_columns=ds.column_names, desc="to prompt/completion")
        kind = "sft"
    else:
        raise DataFormatError(source, None, f"unrecognised columns {sorted(columns)}",
                              "the example schema, teacher rankings (qid/query/docids), chat messages or "
                              "instruction/input/output")
    provenance = {"hub_id": args.hub_id, "config": args.hub_config, "split": args.hub_split, "kind": kind,
                  "rows": len(ds), "repairs": dict(report.counts)}
    return datasets.DatasetDict({"train": ds}), provenance


def main(argv: list[str] | None = None) -> list[Path]:
    args = make_parser().parse_args(argv)
    _common.setup_logging(args.quiet)
    if not args.shared and not args.hub_id:
        raise SystemExit("give --shared (the staged data folder) and/or --hub-id")
    jobs = []  # (name, DatasetDict, provenance, sources, license note)
    if args.shared:
        shared = Path(args.shared)
        names = args.folders.split(",") if args.folders else sorted(
            p.name for p in shared.iterdir() if p.is_dir() and any(p.glob("teacher*.jsonl")))
        for name in names:
            folder = shared / name
            if not any(folder.glob("teacher*.jsonl")):
                raise SystemExit(f"{folder} has no teacher*.jsonl files")
            dd, prov = import_folder(folder, with_qrels=args.with_qrels, depth=args.depth)
            note = "see PROVENANCE.md of the source folder (MS MARCO-derived data: non-commercial research; " \
                   "teacher outputs are LLM-provider outputs)"
            jobs.append((name, dd, prov, [str(folder / "PROVENANCE.md")], note))
    if args.hub_id:
        dd, prov = import_hub(args)
        jobs.append(("hub-" + args.hub_id.replace("/", "--"), dd, prov, [f"https://huggingface.co/datasets/"
                                                                          f"{args.hub_id}"], "see the source card"))
    if args.push_to_hub and len(jobs) != 1:
        raise SystemExit(f"--push-to-hub needs exactly one imported dataset, got {len(jobs)}: use --folders")
    outs = []
    for name, dd, prov, sources, note in jobs:
        meta = {"pretty_name": f"rankkd import: {name}", "sources": sources, "license_note": note,
                "description": "Teacher data imported into the rankkd example schema.",
                "command": _common.command_line("import_shared", argv), "provenance": prov}
        outs.append(_common.finish(dd, args, meta, out=Path(args.out) / name))
    return outs


if __name__ == "__main__":
    main()
