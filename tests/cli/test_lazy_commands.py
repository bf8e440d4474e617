"""Commands load lazily: a command imports only its own module, and the help is what loading them all gives."""

import copy
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.core
import typer.main

import curate.cli
from curate.cli import COMMANDS, app

ROOT = Path(__file__).resolve().parents[2]


def _command_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(curate.cli.__path__) if not m.name.startswith("_"))


def _eager_app() -> typer.Typer:
    """`app` with every command module registered up front, on Typer's own group."""
    eager = copy.copy(app)
    eager.info = copy.copy(app.info)
    eager.info.cls = typer.core.TyperGroup
    eager.registered_commands, eager.registered_groups = [], []
    for name in _command_modules():
        importlib.import_module(f"curate.cli.{name}").register(eager)
    return eager


def test_the_command_table_names_every_command_of_every_module_in_order():
    eager = typer.main.get_group(_eager_app())
    assert list(COMMANDS) == list(eager.commands)
    assert sorted(set(COMMANDS.values())) == _command_modules()
    for name, module in COMMANDS.items():
        assert name in curate.cli.module_commands(module)
    assert list(typer.main.get_group(app).commands) == list(COMMANDS)


def _args() -> list[list[str]]:
    models = typer.main.get_group(_eager_app()).commands["models"]
    return [
        [],
        ["--help"],
        ["scor"],  # a typo: "Did you mean 'score'?"
        *([name, "--help"] for name in COMMANDS),
        *(["models", sub, "--help"] for sub in models.commands),  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize("args", _args(), ids=lambda a: " ".join(a) or "(no args)")
def test_help_and_usage_errors_are_the_same_as_with_every_command_loaded(runner, args):
    lazy, eager = runner.invoke(app, args), runner.invoke(_eager_app(), args)
    assert (lazy.exit_code, lazy.output) == (eager.exit_code, eager.output)
    assert lazy.output.strip()


def _modules_after(args: list[str]) -> list[str]:
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from curate.cli import app\n"
        "res = CliRunner().invoke(app, sys.argv[1:])\n"
        "assert res.exit_code == 0, res.output\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_score_imports_no_other_command_or_stage(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"r{i}", "text": f"Row {i} has a few words in it."}) + "\n" for i in range(5)))
    loaded = set(_modules_after(["score", str(src), "-o", str(tmp_path / "out.parquet"), "-s", "length,readability"]))
    assert "curate.cli.score" in loaded and "curate.stages.score" in loaded  # it did run
    other_commands = {f"curate.cli.{m}" for m in _command_modules()} - {"curate.cli.score"}
    other_stages = {f"curate.stages.{s}" for s in ("synthesize", "order", "report", "compare", "fit", "feedback", "trial")}
    assert loaded & (other_commands | other_stages) == set()


def test_help_loads_every_command_but_nothing_heavy():
    loaded = set(_modules_after(["--help"]))
    assert {f"curate.cli.{m}" for m in _command_modules()} <= loaded
    assert loaded & {"vllm", "torch", "datasets", "transformers"} == set()


@pytest.mark.parametrize("preset", [None, "", "logfire"])
def test_main_skips_pydantic_plugin_discovery_unless_told(preset, monkeypatch):
    """The command line sets PYDANTIC_DISABLE_PLUGINS (pydantic scans every package's entry points
    for plugins otherwise); a value the user set, empty included, is left as it is."""
    import curate.cli._errors

    if preset is None:
        monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    else:
        monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", preset)
    seen = []
    monkeypatch.setattr(curate.cli._errors, "run_app", lambda app: seen.append(__import__("os").environ.get("PYDANTIC_DISABLE_PLUGINS")))
    curate.cli.main()
    assert seen == ["__all__" if preset is None else preset]


def test_options_models_are_built_when_first_used():
    """Stage options and summaries defer their pydantic schemas: importing the score command builds none it does not use."""
    code = (
        "import curate.cli.score, curate.stages as s\n"
        "from curate.stages.base import StageOptions, Summary\n"
        "def subs(c):\n"
        "    for k in c.__subclasses__():\n"
        "        yield k\n"
        "        yield from subs(k)\n"
        "built = sorted(k.__name__ for k in [*subs(StageOptions), *subs(Summary)] if k.__pydantic_complete__)\n"
        "print(built)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"
