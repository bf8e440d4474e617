"""Registries: built-ins first, installed plugins (entry points) only when a name needs them.

The plugins here are real installed distributions: a `*.dist-info` folder with an
`entry_points.txt` on `sys.path`, found by `importlib.metadata` like any installed package.
"""

import importlib
import sys

import pytest

from curate.errors import UsageError

MODULES = ("wreg", "wone", "wtwo", "wplug")


@pytest.fixture
def widgets(tmp_path):
    """A `widgets` registry (module wreg) with built-ins in wone and wtwo, and an installed plugin package."""
    (tmp_path / "wreg.py").write_text(
        "from curate.registry import Registry\n"
        "BY_NAME = Registry('widgets', {'one': 'wone', 'two': 'wtwo', 'gone': 'wgone'})\n"
        "BY_MODULE = Registry('widgets', ('wone', 'wtwo', 'wgone'))\n"
    )
    (tmp_path / "wone.py").write_text("from wreg import BY_MODULE, BY_NAME\nfor r in (BY_NAME, BY_MODULE):\n    r.add('one', 'built-in one')\n")
    (tmp_path / "wtwo.py").write_text("from wreg import BY_MODULE, BY_NAME\nfor r in (BY_NAME, BY_MODULE):\n    r.add('two', 'built-in two')\n")
    (tmp_path / "wplug.py").write_text("EXTRA = 'plugin extra'\nSHADOW = 'plugin one'\n")
    dist = tmp_path / "curate_widgets_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: curate-widgets-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[curate.widgets]\nextra = wplug:EXTRA\none = wplug:SHADOW\nbroken = wplug_missing:X\n")
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module("wreg")
    finally:
        sys.path.remove(str(tmp_path))
        for m in MODULES:
            sys.modules.pop(m, None)


def test_a_named_builtin_imports_only_its_module_and_no_plugin(widgets):
    assert widgets.BY_NAME.get("two") == "built-in two"
    assert "wtwo" in sys.modules
    assert "wone" not in sys.modules  # the other built-in's module
    assert "wplug" not in sys.modules  # no entry point was loaded
    assert "two" in widgets.BY_NAME and "wplug" not in sys.modules


def test_builtins_listed_by_module_are_all_imported_but_plugins_are_not(widgets):
    assert widgets.BY_MODULE.get("two") == "built-in two"
    assert "wone" in sys.modules and "wplug" not in sys.modules


@pytest.mark.parametrize("registry", ["BY_NAME", "BY_MODULE"])
def test_a_name_no_builtin_has_loads_the_plugins(widgets, registry):
    reg = getattr(widgets, registry)
    assert reg.get("extra") == "plugin extra"
    assert reg.get("one") == "built-in one"  # a plugin never replaces a built-in
    assert reg.names() == ["extra", "one", "two"]  # the broken plugin is not listed
    with pytest.raises(UsageError, match=r"the widgets plugin 'broken' failed to load \(ModuleNotFoundError"):
        reg.get("broken")
    with pytest.raises(UsageError) as exc:
        reg.get("nothing")
    assert exc.value.what == "unknown widgets 'nothing'" and exc.value.fix == "choose one of: extra, one, two"


def test_listing_the_names_loads_builtins_and_plugins(widgets):
    assert list(widgets.BY_NAME) == ["extra", "one", "two"]
    assert {"wone", "wtwo", "wplug"} <= set(sys.modules)


def test_a_builtin_module_that_is_not_installed_is_skipped(widgets):
    """`wgone` does not exist: its names are simply not there, as before (an optional extra not installed)."""
    assert "gone" not in widgets.BY_NAME
    assert widgets.BY_NAME.builtin_modules == ("wone", "wtwo", "wgone")
    assert widgets.BY_NAME.modules_by_name == {"one": "wone", "two": "wtwo", "gone": "wgone"}


@pytest.mark.parametrize(
    "module, attr",
    [
        ("curate.stages.base", "STAGES"),
        ("curate.signals.base", "SIGNALS"),
        ("curate.engines.base", "ENGINES"),
        ("curate.executors.base", "EXECUTORS"),
    ],
)
def test_each_builtin_is_looked_up_in_the_module_that_registers_it(module, attr):
    """The name → module maps are complete and true: a lookup imports exactly the module that defines the name."""
    reg = getattr(importlib.import_module(module), attr)
    defined_in = {name: reg.get(name).__module__ for name in reg.names()}
    assert reg.modules_by_name == {name: mod for name, mod in defined_in.items() if mod in reg.builtin_modules}
    assert set(reg.modules_by_name.values()) == set(reg.builtin_modules)
