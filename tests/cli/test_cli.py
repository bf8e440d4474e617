"""The command line as a whole: lazy imports, help text with examples, docs coverage."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["polars", "pyarrow", "numpy", "vllm", "torch", "datasets", "transformers", "matplotlib"]


def test_help_imports_nothing_heavy():
    code = f"import sys, curate.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_console_help_runs():
    out = subprocess.run([sys.executable, "-m", "curate", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "score" in out.stdout


def _commands():
    import typer.main

    from curate.cli import app

    group = typer.main.get_group(app)
    return group.commands


def test_every_command_has_help_with_example_and_is_in_readme():
    readme = (ROOT / "README.md").read_text()
    commands = _commands()
    assert {"score", "signals"} <= set(commands)
    for name, cmd in commands.items():
        assert cmd.help and "Example" in cmd.help, f"{name} help lacks an example"
        assert f"curate {name}" in readme, f"README does not mention `curate {name}`"


@pytest.mark.parametrize("name", ["score", "signals"])
def test_command_help_exit_zero(runner, name):
    from curate.cli import app

    res = runner.invoke(app, [name, "--help"])
    assert res.exit_code == 0
    assert "Example" in res.output


def test_version(runner):
    from curate import __version__
    from curate.cli import app

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and __version__ in res.output


def test_unknown_option_is_usage_error():
    out = subprocess.run([sys.executable, "-m", "curate", "score", "--bogus", "x"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "No such option" in out.stderr
    assert "Traceback" not in out.stderr
