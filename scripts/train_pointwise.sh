#!/usr/bin/env bash
# DeAR-P pointwise KD (temperature 2, alpha 0.1, 2 passages per query, query/passage 32/196, lr 1e-4, 2 epochs, LoRA).
#   SMALL=0 TRAIN_DATA=... [TEACHER=...] ACCELERATE_CONFIG=scripts/accelerate/multi_gpu.yaml bash scripts/train_pointwise.sh
#   bash scripts/train_pointwise.sh      # small offline run on the CPU (MiniLM student, GPT-3.5 window ranks as teacher)
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
CONFIG="$REPO/scripts/configs/dear_pointwise.yaml"
if [ "$SMALL" = 1 ]; then
  # Teacher signal: the GPT-3.5 window ranks (reciprocal); ranking loss on that order (few r2r rows have labels).
  "${LAUNCH[@]}" "$REPO/scripts/train_pointwise.py" --config "$CONFIG" $(small_args) \
    --target teacher_ranks --ranking_target teacher --sampling top --use_lora false --gradient_checkpointing false \
    --output_dir "$OUT_ROOT/small/dear-pointwise" "$@"
else
  need_train_data
  "${LAUNCH[@]}" "$REPO/scripts/train_pointwise.py" --config "$CONFIG" --train_examples "$TRAIN_DATA" \
    ${TEACHER:+--teacher_model_name_or_path "$TEACHER"} "$@"
fi
