"""The `rankkd` command dispatches to the scripts' bodies; its help is cheap."""

from __future__ import annotations

import subprocess
import sys

from rankkd.cli import COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_unknown_command_is_named(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_every_command_module_has_a_main():
    import importlib

    for module, _ in COMMANDS.values():
        assert callable(importlib.import_module(f"rankkd.commands.{module}").main)


def test_top_level_help_does_not_import_torch():
    code = "import sys; from rankkd.cli import main; main(['--help']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")


def test_evaluate_subcommand_runs(tmp_path, capsys):
    (tmp_path / "qrels.txt").write_text("q1 0 d1 1\nq1 0 d2 0\n")
    (tmp_path / "run.txt").write_text("q1 Q0 d1 1 2.0 t\nq1 Q0 d2 2 1.0 t\n")
    code = main(["evaluate", "--qrels", str(tmp_path / "qrels.txt"), "--run", f"r={tmp_path / 'run.txt'}",
                 "--metrics", "mrr@10"])
    assert code == 0
    assert "1.0000" in capsys.readouterr().out
