"""Train a tiny cross-encoder for one step and save the flattened parameters (run by tests/test_distributed.py).

    accelerate launch --cpu --num_processes 2 tests/scripts/ddp_train.py MODEL_DIR OUT_DIR PER_DEVICE_BATCH
"""

import sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from rankkd.testing import make_toy_examples
from rankkd.trainers import ListwiseConfig, ListwiseTrainer


def main(model_dir: str, out_dir: str, batch: int) -> None:
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=1, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
    )
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    args = ListwiseConfig(
        output_dir=out_dir, per_device_train_batch_size=batch, num_train_epochs=1, learning_rate=100.0,
        optim="sgd", lr_scheduler_type="constant", save_strategy="no", report_to="none", use_cpu=True,
        group_size=6, loss="ranknet", seed=0, disable_tqdm=True,
    )
    trainer = ListwiseTrainer(model=model, args=args, train_dataset=make_toy_examples(4, 6, seed=3),
                              processing_class=tokenizer)
    trainer.train()
    print(f"world_size={trainer.args.world_size}", flush=True)
    if trainer.is_world_process_zero():
        torch.save(torch.cat([p.detach().flatten() for p in model.parameters()]), f"{out_dir}/params.pt")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
