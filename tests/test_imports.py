"""Every adtos module imports in a fresh interpreter, no two modules import each other,
and the packages import one way only: down the floors of the house (FLOORS).

The import graph is read with `ast` from every `import` statement of every
module: at module level, inside functions and under `if TYPE_CHECKING:`,
since a lazy or type-only import is still a dependency that runs both ways.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "adtos"

# Module cycles allowed to remain: none (the last one, evaluate.py <-> train.py,
# was cut in issue #15). Keep it empty.
KNOWN_CYCLES: list[set[str]] = []

# The floors of the house, lowest first: each top-level module or subpackage of
# adtos/ may import its own modules and those of the floors before it, never one
# after it (function-level imports included). The order is the pipeline's:
# shared formats and helpers, then the stages as data flows through them, then
# the entry points. docs/ARCHITECTURE.md ("Floors") shows the same list.
FLOORS: tuple[str, ...] = (
    # the ground floor: imports nothing of ADTOS but the modules before it
    "adtos",          # the package's __init__: only __version__
    "errors", "workers", "follow_parent", "fileio", "vocab", "midi", "annotations", "plotting",
    "cli",            # the command frame each stage's cli.py registers into (it loads them by name)
    # the stages, as the pipeline reads
    "index", "assemble", "kits", "presets", "render", "build",
    "datasets", "transcriber", "stats", "scaling",
    # the entry points
    "demo", "__main__",
)

# Imports that go up a floor today, (importer, imported) module by module: none
# since issue #24 moved the native sampler and the sampled-kit check to the preset
# players (adtos.presets.sampler, adtos.presets.kitcheck) and the soundfont licence
# table to adtos.presets.soundfonts. A new upward import fails the test; so does an
# entry here that no longer happens (delete it: the list only shrinks). Keep it empty.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


def is_command_module(name: str) -> bool:
    """A module that registers commands (adtos.cli.STAGE_CLI_MODULES): nothing imports it.

    It sits on its stage's floor like every other module of the stage, so the floor
    and two-way rules hold for it too: `adtos kits`, which renders kits with the
    native sampler (a preset player), is registered by adtos.presets.kits_cli.
    """
    from adtos.cli import STAGE_CLI_MODULES

    return name in STAGE_CLI_MODULES


def module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def module_path(name: str) -> Path:
    path = REPO.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imported_modules(name: str, known: set[str]) -> set[str]:
    """The adtos modules that module `name` imports anywhere in its source."""
    path = module_path(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` imports the module pkg.mod; `from pkg import name`, pkg.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_imports_in_a_fresh_interpreter():
    names = [n for n in module_names() if not n.endswith("__main__")]  # importing it runs the CLI
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run([sys.executable, "-c", code, *names], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def test_import_graph_has_no_cycles():
    names = module_names()
    known = set(names)
    graph = {name: imported_modules(name, known) for name in names}
    assert graph["adtos.assemble.write"] >= {"adtos.midi", "adtos.annotations"}  # the reader sees imports
    assert "adtos.render" in graph["adtos.build.pipeline"]  # function-level too (render_step)
    found = [c for c in cycles(graph) if c not in KNOWN_CYCLES]
    assert found == [], f"import cycles: {[sorted(c) for c in found]}"


def floor_of(name: str) -> str:
    """The floor a module sits on: its top-level module or subpackage under adtos."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def upward_imports(graph: dict[str, set[str]], floors: tuple[str, ...]) -> set[tuple[str, str]]:
    """(importer, imported) pairs where the imported module sits on a higher floor."""
    level = {floor: i for i, floor in enumerate(floors)}
    return {(name, target) for name, targets in graph.items() for target in targets
            if level[floor_of(target)] > level[floor_of(name)]}


def test_floors_name_every_package_once():
    present = {floor_of(name) for name in module_names()}
    assert len(set(FLOORS)) == len(FLOORS)
    assert present == set(FLOORS), (f"place these on a floor: {sorted(present - set(FLOORS))}; "
                                    f"gone: {sorted(set(FLOORS) - present)}")


def test_packages_import_down_the_floors_only():
    names = module_names()
    known = set(names)
    graph = {name: imported_modules(name, known) for name in names}
    upward = upward_imports(graph, FLOORS)
    new = sorted(upward - KNOWN_VIOLATIONS)
    assert new == [], (f"imports that go up a floor (FLOORS): {new}; import the other way, or move "
                       "the code to the floor where its users are")
    gone = sorted(KNOWN_VIOLATIONS - upward)
    assert gone == [], f"no longer happen, delete from KNOWN_VIOLATIONS: {gone}"


def test_no_two_packages_import_each_other_beyond_the_known_violations():
    names = module_names()
    known = set(names)
    graph = {name: imported_modules(name, known) - {t for n, t in KNOWN_VIOLATIONS if n == name}
             for name in names}
    packages = {(floor_of(n), floor_of(t)) for n, targets in graph.items() for t in targets
                if floor_of(n) != floor_of(t)}
    assert sorted((a, b) for a, b in packages if (b, a) in packages) == []


def test_no_module_imports_a_command_module():
    """The command modules are loaded by name by adtos.cli; no module imports them."""
    names = module_names()
    known = set(names)
    found = sorted((name, target) for name in names for target in imported_modules(name, known)
                   if is_command_module(target))
    assert found == []


def test_upward_imports_are_found():
    graph = {"adtos.kits.x": {"adtos.presets.y", "adtos.vocab"}, "adtos.presets.y": {"adtos.kits.x"},
             "adtos.vocab": set()}
    assert upward_imports(graph, ("vocab", "kits", "presets")) == {("adtos.kits.x", "adtos.presets.y")}
    graph["adtos.kits.cli"] = {"adtos.presets.y"}  # a command module is held to its floor too
    assert upward_imports(graph, ("vocab", "kits", "presets")) == {
        ("adtos.kits.x", "adtos.presets.y"), ("adtos.kits.cli", "adtos.presets.y")}


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def script_paths() -> list[Path]:
    """benchmarks/*.py (maintained), benchmarks/experiments/*.py (the record) and tools/*.py."""
    return sorted([*(REPO / "benchmarks").rglob("*.py"), *(REPO / "tools").glob("*.py")])


def test_every_benchmark_and_tool_script_imports():
    """Each script loads (its imports resolve) without running its main()."""
    scripts = [str(p) for p in script_paths()]
    assert len(scripts) >= 20
    code = ("import runpy, sys\n"
            "for path in sys.argv[1:]:\n"
            "    namespace = runpy.run_path(path, run_name='benchmark_import')\n"
            "    assert callable(namespace.get('main')), f'{path}: no main()'\n")
    result = subprocess.run([sys.executable, "-c", code, *scripts], cwd=REPO, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-3000:]


def test_no_benchmark_or_tool_imports_the_tests():
    """Shared helpers live in the package (adtos.*.testing, adtos.workers), not in tests/."""
    test_modules = {p.stem for p in (REPO / "tests").glob("*.py")}
    found = []
    for path in script_paths():
        source = path.read_text()
        tree = ast.parse(source, str(path))
        names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
        names |= {node.module.split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.module and not node.level}
        if names & test_modules or '"tests"' in source:
            found.append(f"{path.relative_to(REPO)}: {sorted(names & test_modules) or 'tests/ on sys.path'}")
    assert found == []
