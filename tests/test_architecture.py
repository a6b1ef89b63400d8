"""The import rules of docs/architecture.md, checked on the source tree itself.

- Only the stage asset modules (``assets/<stage>/assets.py``) and ``pipelines/`` import
  Dagster; every other module is plain pandas/NumPy and runs without it.
- Stages are layered in flow order: a module never imports a later stage, and a domain
  module never imports an asset module or ``pipelines/``.
- There are no import circles, counting imports made inside functions too.

Run it alone with ``python -m pytest tests/test_architecture.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("assets", "validation", "pipelines", "synthetic", "reference", "templates")

# Domain layers in flow order (docs/architecture.md). A module may import its own layer
# and any earlier one.
DOMAIN_LAYERS = [
    "assets.common",
    "assets.ingest",
    "validation",
    "assets.history",
    "assets.measures",
    "assets.disclosure",
    "assets.publication",
    "assets.approval",
]
# The ingest stage's assets read the returns and validate them: they reach validation/.
ASSET_MODULE_REACH = {"assets.ingest.assets": "validation"}
# Dagster infrastructure the asset modules are built on (no assets in them).
PIPELINE_INFRASTRUCTURE = {
    "pipelines.constants",
    "pipelines.partitions",
    "pipelines.resources",
    "pipelines.schema_metadata",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # ``from assets.measures import breakdowns`` imports a module, not a name.
            names.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if f"{node.module}.{alias.name}" in MODULES
            )
    return names


def _project_imports(module: str) -> set[str]:
    out = set()
    for name in _imports(MODULES[module]):
        # Resolve to the longest project module that the name starts with.
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            candidate = ".".join(parts[:i])
            if candidate in MODULES and candidate != module:
                out.add(candidate)
                break
    return out


def _is_asset_module(module: str) -> bool:
    parts = module.split(".")
    return len(parts) == 3 and parts[0] == "assets" and parts[2] == "assets"


def _layer(module: str) -> int | None:
    for i, prefix in enumerate(DOMAIN_LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return i
    return None


def test_the_tree_has_the_stage_packages_in_flow_order():
    stages = [p.split(".")[1] for p in DOMAIN_LAYERS if p.startswith("assets.")]
    for stage in stages:
        assert (ROOT / "assets" / stage / "__init__.py").is_file(), stage
    for stage in stages[1:]:  # every stage but the shared layer has its asset module
        assert f"assets.{stage}.assets" in MODULES, stage
    unexpected = [p.name for p in (ROOT / "assets").glob("*.py") if p.name != "__init__.py"]
    assert not unexpected, f"modules outside a stage package: {unexpected}"


def test_only_asset_modules_and_pipelines_import_dagster():
    offenders = []
    for module, path in MODULES.items():
        if module.startswith("pipelines") or _is_asset_module(module):
            continue
        uses = {n for n in _imports(path) if n == "dagster" or n.startswith("dagster")}
        if uses:
            offenders.append(f"{module} imports {sorted(uses)}")
    assert not offenders, "\n".join(offenders)


def test_no_stage_imports_a_later_stage():
    offenders = []
    for module in MODULES:
        if _is_asset_module(module):
            layer = _layer(ASSET_MODULE_REACH.get(module, module))
            for dep in _project_imports(module):
                if _is_asset_module(dep):
                    offenders.append(f"{module} imports another stage's assets: {dep}")
                elif dep.startswith("pipelines") and dep not in PIPELINE_INFRASTRUCTURE:
                    offenders.append(f"{module} imports pipeline wiring: {dep}")
                elif (_layer(dep) or 0) > layer:
                    offenders.append(f"{module} imports a later stage: {dep}")
            continue
        layer = _layer(module)
        if layer is None:
            continue
        for dep in _project_imports(module):
            if dep.startswith("pipelines") or _is_asset_module(dep):
                offenders.append(f"domain module {module} imports {dep}")
            elif _layer(dep) is not None and _layer(dep) > layer:
                offenders.append(f"{module} (stage {DOMAIN_LAYERS[layer]}) imports {dep}")
    assert not offenders, "\n".join(offenders)


def test_pipeline_infrastructure_does_not_import_the_wiring_or_the_assets():
    offenders = []
    for module in PIPELINE_INFRASTRUCTURE:
        for dep in _project_imports(module):
            if _is_asset_module(dep) or (
                dep.startswith("pipelines") and dep not in PIPELINE_INFRASTRUCTURE
            ):
                offenders.append(f"{module} imports {dep}")
    assert not offenders, "\n".join(offenders)


def test_synthetic_generator_uses_only_the_shared_layer():
    offenders = [
        f"{m} imports {dep}"
        for m in MODULES
        if m.startswith("synthetic")
        for dep in _project_imports(m)
        if not dep.startswith(("synthetic", "assets.common", "reference"))
    ]
    assert not offenders, "\n".join(offenders)


def test_there_are_no_import_circles():
    graph = {m: _project_imports(m) for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for m in sorted(graph):
        if m not in index:
            visit(m)
    assert not circles, f"import circles: {circles}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith("tests")))
def test_every_module_imports(module):
    """A broken import fails here by name, never as a skipped test elsewhere."""
    __import__(module)


def test_no_test_skips_on_a_failed_project_import():
    offenders = [
        p.name
        for p in sorted((ROOT / "tests").glob("*.py"))
        if "importorskip(" in p.read_text(encoding="utf-8") and p.name != Path(__file__).name
    ]
    assert not offenders, offenders
