#!/usr/bin/env bash
# The README's main job: install rankkd into .venv, then run the offline quickstart on an embedded default
# (Python's own documentation topics as a test collection, BM25 -> MiniLM-L6 re-rank -> ranx table + PNG).
# Extra arguments go to `python -m rankkd.quickstart` (e.g. --queries 200 --out outputs/qs).
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$REPO"
"$VENV/bin/python" -m rankkd.quickstart "$@"
