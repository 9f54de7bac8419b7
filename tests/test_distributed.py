"""Multi-process training with `accelerate launch`: 2 CPU processes match 1 process at the same global batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).parent / "scripts" / "ddp_train.py"
CONFIG = Path(__file__).parents[1] / "scripts" / "accelerate" / "cpu_2proc.yaml"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch(num_processes: int, model_dir: Path, out_dir: Path, batch: int) -> torch.Tensor:
    out_dir.mkdir(parents=True, exist_ok=True)
    # The shipped CPU config (torchrun + gloo); `--cpu` alone would start a single process.
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(CONFIG),
           "--num_processes", str(num_processes), "--main_process_port", str(_free_port()),
           str(SCRIPT), str(model_dir), str(out_dir), str(batch)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"world_size={num_processes}" in proc.stdout, proc.stdout[-2000:]
    return torch.load(out_dir / "params.pt", weights_only=True)


def test_two_processes_match_one_process_with_the_same_global_batch(tiny_bert_dir, tmp_path):
    from transformers import AutoModelForSequenceClassification

    initial = torch.cat([p.detach().flatten() for p in AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir).parameters()])
    single = _launch(1, tiny_bert_dir, tmp_path / "one", batch=4)
    double = _launch(2, tiny_bert_dir, tmp_path / "two", batch=2)
    assert (single - initial).abs().max() > 5e-3
    torch.testing.assert_close(single, double, atol=1e-4, rtol=1e-4)
