"""The shape of app/: packages in layers whose imports point down only, no import cycle between packages or
modules, core free of the rest of the app, route modules that never import route modules, and no function-level
import hiding an arrow (outside the command line, at most a handful, each saying why). docs/architecture.md
draws the same layers."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"

# Lowest first. A package may import itself and any package of a lower layer, nothing else.
LAYERS: list[set[str]] = [
    {"core", "pdf"},  # infrastructure: settings, database, errors, templates; PDF drawing
    {"auth"},  # who someone is
    {"jobs"},  # durable background jobs: the queue, the worker, schedules, the ジョブ page
    {"org", "mail", "audit"},  # departments and scope, the outbox, the audit log
    {"enrolments"},  # who is enrolled in which course, and in which training cycle
    {"counters"},  # the dashboard's counters and their one write API
    {"lessons", "quiz"},  # lessons of a version; question types, scoring, attempts
    {"content"},  # the catalog: courses, versions, pack format, Markdown
    {"authoring"},  # drafts, publication, rollback, comparison, editing
    {"certificates"},  # issued on completion, verified by code
    {"progress"},  # activity and standing
    {"dashboard"},  # what managers read
    {"assignments"},  # who must take what, and when; recurring cycles
    {"users"},  # people, the HR CSV, password links and slips
    {"documents"},  # the company's policy and manual, read-and-sign, company test
    {"evidence"},  # the evidence pack
    {"learner", "admin", "api"},  # the learner's pages, the admin's pages, the JSON API
    {"models", "subscriptions", "demo"},  # every model registered; who reacts to which event; demo data
    {"main", "cli"},  # the web app and the command line
]
MAX_FUNCTION_LEVEL_IMPORTS = 5


@dataclass(frozen=True)
class Import:
    module: str  # importing module, dotted
    target: str  # imported app module, dotted
    line: int
    nested: bool  # inside a function (or class) rather than at module level
    explained: bool  # a comment on the line or the line above


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_imports(root: Path = APP) -> list[Import]:
    """Every `import app.…` / `from app… import …` in the package tree, wherever it stands."""
    found: list[Import] = []
    modules = {_module_name(path, root) for path in root.rglob("*.py")}
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source)
        module_level = set(map(id, tree.body))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "app":
                targets = [node.module] if node.module != "app" else []
                targets += [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.split(".")[0] == "app"]
            if not targets:
                continue
            nested = id(node) not in module_level and not _under_type_checking(tree, node)
            comment = "#" in lines[node.lineno - 1] or lines[node.lineno - 2].strip().startswith("#")
            for target in targets:
                found.append(Import(_module_name(path, root), target, node.lineno, nested, comment))
    return found


def _under_type_checking(tree: ast.Module, node: ast.AST) -> bool:
    return any(
        isinstance(top, ast.If)
        and "TYPE_CHECKING" in ast.unparse(top.test)
        and any(child is node for child in ast.walk(top))
        for top in tree.body
    )


def package_of(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def layer_of(package: str) -> int:
    for number, layer in enumerate(LAYERS):
        if package in layer:
            return number
    raise AssertionError(f"app/{package} is in no layer: add it to LAYERS and to docs/architecture.md")


def upward_imports(imports: list[Import]) -> list[str]:
    wrong = []
    for found in imports:
        source, target = package_of(found.module), package_of(found.target)
        if source != target and layer_of(target) >= layer_of(source):
            wrong.append(
                f"{found.module}:{found.line} imports {found.target} (layer {layer_of(target)} ≥ {layer_of(source)})"
            )
    return wrong


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in edges.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return app_imports()


def test_every_package_is_in_a_layer() -> None:
    packages = {path.name for path in APP.iterdir() if (path / "__init__.py").exists()}
    packages |= {path.stem for path in APP.glob("*.py") if path.stem != "__init__"}
    for package in packages:
        layer_of(package)


def test_dependencies_point_down(imports: list[Import]) -> None:
    assert upward_imports(imports) == []


def test_core_imports_nothing_else_from_the_app(imports: list[Import]) -> None:
    assert [
        f"{i.module}:{i.line}" for i in imports if package_of(i.module) == "core" and package_of(i.target) != "core"
    ] == []


def test_no_import_cycle_between_packages_or_modules(imports: list[Import]) -> None:
    packages: dict[str, set[str]] = {}
    modules: dict[str, set[str]] = {}
    for found in imports:
        if package_of(found.module) != package_of(found.target):
            packages.setdefault(package_of(found.module), set()).add(package_of(found.target))
        if not found.nested:
            modules.setdefault(found.module, set()).add(found.target)
    assert cycles(packages) == []
    assert cycles(modules) == []


def test_route_modules_never_import_route_modules(imports: list[Import]) -> None:
    def is_routes(module: str) -> bool:
        return module.rsplit(".", 1)[-1].endswith("routes")

    assert [f"{i.module}:{i.line} → {i.target}" for i in imports if is_routes(i.module) and is_routes(i.target)] == []


def test_function_level_imports_are_few_and_explained(imports: list[Import]) -> None:
    nested = [i for i in imports if i.nested and i.module != "app.cli"]
    assert len({(i.module, i.line) for i in nested}) <= MAX_FUNCTION_LEVEL_IMPORTS
    assert [f"{i.module}:{i.line}" for i in nested if not i.explained] == []


def test_the_checks_catch_a_back_arrow_and_a_cycle(tmp_path: Path) -> None:
    """The checks themselves: a core module importing auth, and two modules importing each other."""
    (tmp_path / "app" / "core").mkdir(parents=True)
    (tmp_path / "app" / "auth").mkdir()
    for folder in ("app", "app/core", "app/auth"):
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "app" / "core" / "deps.py").write_text("from app.auth import service\n")
    (tmp_path / "app" / "auth" / "service.py").write_text(
        "from app.core import deps\n\n\ndef f():\n    from app.core import deps\n"
    )
    found = app_imports(tmp_path / "app")
    assert upward_imports(found) == [
        "app.core.deps:1 imports app.auth (layer 1 ≥ 0)",
        "app.core.deps:1 imports app.auth.service (layer 1 ≥ 0)",
    ]
    modules: dict[str, set[str]] = {}
    for i in found:
        if not i.nested:
            modules.setdefault(i.module, set()).add(i.target)
    assert cycles(modules) == [["app.auth.service", "app.core.deps"]]
    assert {(i.module, i.line, i.explained) for i in found if i.nested} == {("app.auth.service", 5, False)}
