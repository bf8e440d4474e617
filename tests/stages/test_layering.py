"""The stage API stands alone: no command line beneath it, and no import cycles in curate."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_stages_and_pipelines_never_mention_the_command_line():
    offenders = []
    for folder in ("curate/stages", "curate/pipeline"):
        for f in sorted((ROOT / folder).rglob("*.py")):
            for n, line in enumerate(f.read_text().splitlines(), 1):
                if re.search(r"typer|curate\.cli", line):
                    offenders.append(f"{f.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_importing_the_stage_api_loads_no_cli_and_nothing_heavy():
    code = (
        "import sys, curate.stages, curate.stages.score, curate.stages.order, curate.stages.synthesize, curate.stages.report, curate.pipeline; "
        "print(sorted(m for m in sys.modules if m == 'typer' or m.startswith(('typer.', 'curate.cli', 'polars', 'pyarrow', 'vllm', 'torch'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_no_import_cycles_among_curate_modules():
    """Every import counts, including the lazy ones inside functions (grimp reads them all)."""
    assert _cycles("curate") == []


def _cycles(package: str) -> list[list[str]]:
    import grimp
    import networkx as nx

    graph = grimp.build_graph(package, include_external_packages=False, cache_dir=None)
    g = nx.DiGraph((m, dep) for m in graph.modules for dep in graph.find_modules_directly_imported_by(m))
    return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)


def test_the_cycle_check_sees_lazy_imports(tmp_path):
    """The check above would catch a cycle made only of a function-level import."""
    pkg = tmp_path / "cyc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyc import b\n")
    (pkg / "b.py").write_text("def f():\n    from cyc import a\n    return a\n")
    sys.path.insert(0, str(tmp_path))
    try:
        assert _cycles("cyc") == [["cyc.a", "cyc.b"]]
    finally:
        sys.path.remove(str(tmp_path))
