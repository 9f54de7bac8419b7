#!/usr/bin/env bash
# DeAR-L listwise SFT: LoRA (r=16) on teacher windows (Reason-to-Rank CoT windows of MS MARCO train queries),
# validated by re-ranking a few DL19 queries (nDCG@10 + parse rate), merged model saved to OUT.
# Small offline defaults (SmolLM2, 64 windows, 20 steps); override e.g.
#   TARGET=rationale MAX_ROWS=0 MAX_STEPS=-1 EPOCHS=1 bash scripts/train_listwise.sh --learning_rate 1e-4
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${RANKKD_VENV:-$REPO/.venv}/bin/python"
DATA="${DATA:-$REPO/../shared/data}"
MODEL="${MODEL:-smollm2}"
TARGET="${TARGET:-permutation}"          # permutation | rationale | pointwise | comparative
TEACHER="${TEACHER:-$DATA/msmarco-train-r2r-cot/teacher.jsonl}"
CORPUS="${CORPUS:-$DATA/msmarco-train-r2r-cot/corpus.jsonl}"
EVAL="${EVAL:-$DATA/trec-dl-2019}"
MAX_ROWS="${MAX_ROWS:-64}"               # 0 = all records
MAX_STEPS="${MAX_STEPS:-20}"
EPOCHS="${EPOCHS:-1}"
OUT="${OUT:-$REPO/out/listwise-sft-$TARGET}"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if [ ! -f "$TEACHER" ]; then echo "no teacher file at $TEACHER (set DATA=... or TEACHER=...)"; exit 1; fi
extra=()
[ "$MAX_ROWS" != "0" ] && extra+=(--max_train_rows "$MAX_ROWS")
"$PY" "$REPO/scripts/train_listwise_sft.py" --model_name_or_path "$MODEL" --output_dir "$OUT" \
  --train_teacher "$TEACHER" --train_corpus "$CORPUS" --target "$TARGET" \
  --eval_data "$EVAL" --max_eval_queries 3 --rank_eval_depth 10 --rank_eval_window 10 --rank_eval_stride 5 \
  --use_lora true --lora_r 16 --lora_alpha 32 --learning_rate 2e-4 --per_device_train_batch_size 4 \
  --max_steps "$MAX_STEPS" --num_train_epochs "$EPOCHS" --gradient_checkpointing false --bf16 false \
  --max_passage_tokens 80 --logging_steps 5 --save_strategy no --report_to none --use_cpu true \
  "${extra[@]}" "$@"
