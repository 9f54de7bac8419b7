#!/usr/bin/env bash
# Rank-DistiLLM: (1) InfoNCE pre-fine-tuning on hard negatives (8 from the top-200), (2) RankNet or ADR-MSE
# fine-tuning on the LLM re-ranking of the top-100, starting from (1).
#   SMALL=0 PRETRAIN_DATA=... TRAIN_DATA=... LOSS=adr_mse ACCELERATE_CONFIG=... bash scripts/rank_distillm.sh
#   bash scripts/rank_distillm.sh        # small offline run on the CPU
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
LOSS="${LOSS:-ranknet}"
if [ "$SMALL" = 1 ]; then
  OUT="$OUT_ROOT/small/rank-distillm"
  "${LAUNCH[@]}" "$REPO/scripts/train_listwise.py" --config "$REPO/scripts/configs/rank_distillm_pretrain.yaml" \
    $(small_args) --output_dir "$OUT/pretrain" "$@"
  "${LAUNCH[@]}" "$REPO/scripts/train_listwise.py" --config "$REPO/scripts/configs/rank_distillm_finetune.yaml" \
    $(small_args) --model_name_or_path "$OUT/pretrain" --group_size 5 --gradient_checkpointing false \
    --loss "$LOSS" --output_dir "$OUT/finetune-$LOSS" "$@"
else
  need_train_data
  : "${PRETRAIN_DATA:?SMALL=0 needs PRETRAIN_DATA (rows with labels and a deep first-stage list)}"
  OUT="${OUT:-outputs/rank-distillm}"
  "${LAUNCH[@]}" "$REPO/scripts/train_listwise.py" --config "$REPO/scripts/configs/rank_distillm_pretrain.yaml" \
    --train_examples "$PRETRAIN_DATA" --output_dir "$OUT/pretrain" "$@"
  "${LAUNCH[@]}" "$REPO/scripts/train_listwise.py" --config "$REPO/scripts/configs/rank_distillm_finetune.yaml" \
    --train_examples "$TRAIN_DATA" --model_name_or_path "$OUT/pretrain" --loss "$LOSS" \
    --output_dir "$OUT/finetune-$LOSS" "$@"
fi
