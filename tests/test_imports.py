"""Every adtos module imports in a fresh interpreter, and no two modules import each other.

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


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_every_benchmark_script_imports():
    """Each benchmarks/*.py loads (its imports resolve) without running its main()."""
    scripts = sorted(str(p) for p in (REPO / "benchmarks").glob("*.py"))
    assert len(scripts) >= 10
    code = ("import runpy, sys\n"
            "for path in sys.argv[1:]:\n"
            "    namespace = runpy.run_path(path, run_name='benchmark_import')\n"
            "    assert callable(namespace.get('main')), f'{path}: no main()'\n")
    result = subprocess.run([sys.executable, "-c", code, *scripts], cwd=REPO, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-3000:]
