#!/usr/bin/env bash
# Multi-stage fine-tuning (Pezzuti et al., ECIR 2025): contrastive -> KD (ORDER=cl-kd) or KD -> contrastive (ORDER=kd-cl),
# for ELECTRA and RoBERTa students (STUDENTS="google/electra-base-discriminator FacebookAI/roberta-base").
#   SMALL=0 TRAIN_DATA=... bash scripts/multistage.sh
#   bash scripts/multistage.sh           # small offline run on the CPU (MiniLM student, both orders)
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
ORDERS="${ORDER:-cl-kd kd-cl}"
for order in $ORDERS; do
  config="$REPO/scripts/configs/multistage_${order//-/_}.yaml"
  if [ "$SMALL" = 1 ]; then
    r2r="$SHARED/msmarco-train-r2r-cot"
    sets=(--set "output_dir=$OUT_ROOT/small/multistage/$order" --set "model_name_or_path=$("$PY" -m rankkd.models.pretrained)"
          --set defaults.max_steps="${SMALL_STEPS:-4}" --set defaults.per_device_train_batch_size=4
          --set defaults.bf16=false --set defaults.group_size=5)
    if [ -f "$r2r/teacher.jsonl" ]; then
      sets+=(--set "defaults.train_teacher=$r2r/teacher.jsonl" --set "defaults.train_queries=$r2r/queries.tsv"
             --set "defaults.train_corpus=$r2r/corpus.jsonl" --set "defaults.train_qrels=$r2r/qrels.txt"
             --set defaults.max_train_rows="${SMALL_ROWS:-64}")
    else
      "$PY" -m rankkd.testing toy "$OUT_ROOT/toy-data" >/dev/null
      sets+=(--set "defaults.train_examples=$OUT_ROOT/toy-data")
    fi
    "$PY" "$REPO/scripts/train_curriculum.py" "$config" "${sets[@]}" "$@"
  else
    need_train_data
    for student in ${STUDENTS:-google/electra-base-discriminator FacebookAI/roberta-base}; do
      "$PY" "$REPO/scripts/train_curriculum.py" "$config" --set "model_name_or_path=$student" \
        --set "defaults.train_examples=$TRAIN_DATA" --set "output_dir=outputs/multistage/$order/${student##*/}" "$@"
    done
  fi
done
