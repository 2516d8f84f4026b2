"""The dependency rules of architecture.md, checked on the imports of src/ilp_api (every import, lazy ones too).

- ``ilp/`` (the pure rules engine) imports nothing of the package outside itself;
- ``fhir/`` (the machinery) imports none of the domain, security, audit or HTTP packages, nor the settings, and
  knows no HTTP framework (FastAPI, Starlette: the exception handlers and routes are api/'s);
- ``db/`` imports no other package;
- no import cycle between packages (a top-level module such as ``settings`` counts as one), nor between the
  modules of ``fhir/``.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "ilp_api"
FHIR_MAY_NOT_IMPORT = frozenset(
    {
        "resources",
        "security",
        "audit",
        "screening",
        "integrations",
        "reporting",
        "api",
        "terminology",
        "wilayah",
        "demo",
        "settings",
        "app",
        "cli",
        "wiring",
        "middleware",
        "metrics",
        "health",
    }
)
HTTP_FRAMEWORKS = frozenset({"fastapi", "starlette"})
ModuleGraph = dict[str, set[str]]


def module_graph(source: Path) -> ModuleGraph:
    """Each module of the package under ``source`` → the modules of the package it imports."""
    paths = {_module_name(path, source): path for path in (source / PACKAGE).rglob("*.py")}
    graph: ModuleGraph = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[name] = {target for target in _imports(tree, name, path, set(paths)) if target != name}
    return graph


def _module_name(path: Path, source: Path) -> str:
    parts = list(path.relative_to(source).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module, module: str, path: Path, modules: set[str]) -> Iterator[str]:
    """The package's modules that ``module`` imports: ``from a import b`` imports ``a.b`` when that is a module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
            yield from submodules
            if len(submodules) < len(node.names) and base in modules:
                yield base


def area(module: str) -> str:
    """``ilp_api.fhir.registry`` → ``fhir``; a top-level module is an area of its own (``settings``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(source: Path) -> list[str]:
    graph = module_graph(source)
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            here, there = area(module), area(target)
            if there in ("", here):
                continue  # the package root holds only its version
            if here == "ilp" or here == "db":
                found.append(f"{module} imports {target}: {here}/ imports nothing of the package outside itself")
            elif here == "fhir" and there in FHIR_MAY_NOT_IMPORT:
                found.append(f"{module} imports {target}: fhir/ is the machinery, it imports no {there}")
    areas: ModuleGraph = {}
    for module, targets in graph.items():
        areas.setdefault(area(module), set()).update(area(t) for t in targets if area(t) not in ("", area(module)))
    found += [f"import cycle between packages: {' → '.join(cycle)}" for cycle in cycles(areas)]
    fhir = {m: {t for t in ts if area(t) == "fhir"} for m, ts in graph.items() if area(m) == "fhir"}
    found += [f"import cycle inside fhir/: {' → '.join(cycle)}" for cycle in cycles(fhir)]
    return found + http_imports(source)


def http_imports(source: Path) -> list[str]:
    """Imports of an HTTP framework by fhir/ modules."""
    found = []
    for path in sorted((source / PACKAGE / "fhir").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            for name in names:
                if name.split(".")[0] in HTTP_FRAMEWORKS:
                    module = _module_name(path, source)
                    found.append(f"{module} imports {name}: fhir/ knows no HTTP framework, api/ does")
    return found


def cycles(graph: ModuleGraph) -> list[list[str]]:
    """One cycle through each strongly connected group of nodes, if any (depth-first search)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            found.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, [*path, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return found


def test_the_package_keeps_its_dependency_rules(repository_root: Path) -> None:
    assert violations(repository_root / "src") == []


def write_package(root: Path, modules: dict[str, str]) -> Path:
    for name, text in modules.items():
        path = root / PACKAGE / f"{name.replace('.', '/')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            if parent != Path("."):
                (root / parent / "__init__.py").touch()
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("modules", "expected"),
    [
        (
            {"fhir.pipeline": "from ilp_api.security.auth import Principal\n", "security.auth": ""},
            "ilp_api.fhir.pipeline imports ilp_api.security.auth: fhir/ is the machinery, it imports no security",
        ),
        (
            {"fhir.service": "def lazy():\n    from ilp_api import settings\n", "settings": ""},
            "ilp_api.fhir.service imports ilp_api.settings: fhir/ is the machinery, it imports no settings",
        ),
        (
            {"fhir.outcome": "from fastapi import Request\n"},
            "ilp_api.fhir.outcome imports fastapi: fhir/ knows no HTTP framework, api/ does",
        ),
        (
            {"ilp.nik": "from ..fhir import registry\n", "fhir.registry": ""},
            "ilp_api.ilp.nik imports ilp_api.fhir.registry: ilp/ imports nothing of the package outside itself",
        ),
        (
            {
                "audit.records": "import ilp_api.resources.patient\n",
                "resources.patient": "from ilp_api.audit import records\n",
            },
            "import cycle between packages: audit → resources → audit",
        ),
        (
            {
                "fhir.registry": "from ilp_api.fhir.service import x\n",
                "fhir.service": "from ilp_api.fhir import registry\n",
            },
            "import cycle inside fhir/: ilp_api.fhir.registry → ilp_api.fhir.service → ilp_api.fhir.registry",
        ),
    ],
)
def test_the_checker_finds_a_broken_rule(tmp_path: Path, modules: dict[str, str], expected: str) -> None:
    assert violations(write_package(tmp_path, modules)) == [expected]
