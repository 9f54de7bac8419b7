#!/usr/bin/env bash
# TWOLAR step 2: RankNet on the LLM's order of pooled candidates (reciprocal-rank targets).
#   SMALL=0 TRAIN_DATA=... ACCELERATE_CONFIG=... bash scripts/twolar.sh
#   bash scripts/twolar.sh               # small offline run on the CPU
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
CONFIG="$REPO/scripts/configs/twolar.yaml"
if [ "$SMALL" = 1 ]; then
  "${LAUNCH[@]}" "$REPO/scripts/train_listwise.py" --config "$CONFIG" $(small_args) --group_size 5 \
    --output_dir "$OUT_ROOT/small/twolar" "$@"
else
  need_train_data
  "${LAUNCH[@]}" "$REPO/scripts/train_listwise.py" --config "$CONFIG" --train_examples "$TRAIN_DATA" "$@"
fi
