"""Every shipped accelerate configuration loads with accelerate's own parser and says what it is for."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIGS = sorted((Path(__file__).parents[1] / "scripts" / "accelerate").glob("*.yaml"))


def test_the_documented_set_is_shipped():
    names = {path.stem for path in CONFIGS}
    assert {"single_gpu", "multi_gpu", "deepspeed_zero2", "deepspeed_zero3", "fsdp", "cpu_2proc"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_loads(path):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(path))
    assert config.num_processes >= 1
    assert path.read_text().lstrip().startswith("#")  # a comment says when to use it
    if "deepspeed" in path.stem:
        assert config.deepspeed_config["zero_stage"] == int(path.stem[-1])
