"""The shape of bot/: no import cycles between its modules, no aiogram private attributes.

Read from the source (ast), not from an import: an import inside a function counts as much as
one at the top, since both tie the modules together. Imports under ``if TYPE_CHECKING:`` do
not count: they never run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
GETATTR_FAMILY = frozenset({"getattr", "setattr", "hasattr", "delattr"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(BOT.rglob("*.py"))}


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under ``node`` except the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from runtime_nodes(other)
            continue
        yield child
        yield from runtime_nodes(child)


def imported(name: str, path: Path) -> set[str]:
    """Names ``name`` imports at run time: modules, and ``from`` targets that may be modules."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    """bot's modules and the bot modules each imports.

    Importing ``bot.events`` runs ``bot/worker/__init__.py`` first, so it counts as
    importing ``bot.worker`` too. An import of one's own ancestor package is dropped: Python
    has run it already, and a sibling imported through it (``from bot.worker import runner``)
    is not a dependency of design.
    """
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets: set[str] = set()
        for target in imported(name, path):
            while target and target not in known:
                target = target.rpartition(".")[0]
            while target:
                if target != name and not name.startswith(target + "."):
                    targets.add(target)
                target = target.rpartition(".")[0]
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            target = next(edges, None)
            if target is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif target not in index:
                index[target] = low[target] = len(index)
                stack.append(target)
                on_stack.add(target)
                work.append((target, iter(sorted(graph[target]))))
            elif target in on_stack:
                low[node] = min(low[node], index[target])
    return found


def private_accesses(source: str) -> Iterator[tuple[int, str]]:
    """``x._name`` (not on self or cls) and ``getattr(x, "_name")``: another object's privates.

    bot/ has no private attributes of its own that other objects read, so every hit is a
    reach into someone else's internals, aiogram's above all. Yields (line, expression).
    """
    for node in ast.walk(ast.parse(source)):
        attribute: str | None = None
        if isinstance(node, ast.Attribute):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in {"self", "cls"}):
                attribute = node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in GETATTR_FAMILY
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            attribute = node.args[1].value
        if attribute is None or not attribute.startswith("_"):
            continue
        if attribute.startswith("__") and attribute.endswith("__"):
            continue  # dunders (__name__, __class__) are public
        yield getattr(node, "lineno", 0), ast.unparse(node)


def test_the_graph_sees_what_bot_imports() -> None:
    graph = import_graph()
    assert "bot.resources" in graph["bot.factory"]
    assert "bot.handlers" in graph["bot.factory"]
    assert "bot.handlers.routes" in graph["bot.handlers.buy"]
    assert "bot.handlers" not in graph["bot.handlers.buy"]  # its own package
    # A submodule's import runs its package's __init__ first.
    assert {"bot.worker", "bot.worker.context"} <= graph["bot.side"]


def test_no_import_cycles_in_bot() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_cycles_are_found_and_type_checking_imports_are_not_counted() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    source = (
        "from typing import TYPE_CHECKING\n"
        "import json\n"
        "if TYPE_CHECKING:\n"
        "    from bot.factory import Resources\n"
        "else:\n"
        "    import csv\n"
        "def f():\n"
        "    from bot.lifespan import on_startup\n"
    )
    nodes = runtime_nodes(ast.parse(source))
    names = {a.name for n in nodes if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names}
    assert names == {"TYPE_CHECKING", "json", "csv", "on_startup"}


def test_no_private_attributes_of_other_objects_in_bot() -> None:
    found = [
        f"{path.relative_to(BOT.parent)}:{line}: {expression}"
        for path in modules().values()
        for line, expression in private_accesses(path.read_text(encoding="utf-8"))
    ]
    assert not found, "private attributes used:\n" + "\n".join(found)


def test_private_accesses_are_found() -> None:
    source = (
        "router._parent_router = None\n"
        "tasks = getattr(dispatcher, '_handle_update_tasks', ())\n"
        "self._mine = 1\n"
        "cls._registry = {}\n"
        "name = module.__name__\n"
    )
    assert sorted(private_accesses(source)) == [
        (1, "router._parent_router"),
        (2, "getattr(dispatcher, '_handle_update_tasks', ())"),
    ]


def test_the_worker_never_loads_aiogram() -> None:
    """``python -m bot.worker`` sends through bot.botapi: importing any aiogram module would
    build its ~300 Telegram models, about 150 MB of the worker's memory (BENCHMARKS.md)."""
    probe = (
        "import sys, bot.worker.__main__, bot.side\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiogram'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=BOT.parent, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
