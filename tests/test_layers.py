"""The layers of the code, checked on its imports (fangyi/care/flows.py says why they exist).

The domain of each app (its models, selectors, services) sits on a floor of its own, in the
order of `DOMAIN`: an app's domain imports only the domains below it, so the care pathway
(health → observation → quarantine) runs one way and a cycle cannot come back. Where a step
crosses apps upwards (a decision applied opens an observation; an observation ended at a site
frees the bed), it belongs to `fangyi.care`, which sits above the apps it calls.

The edge (pages, endpoints, forms, background tasks, demo data, the front door) is one floor
above every domain: it may use any app's domain and the care pathway, and no domain module
imports an edge module.

Both are checked on every import, at the top of a module and inside a function alike, so an
import moved into a function to dodge a cycle fails here just as a top-level one does; and an
import inside a function is refused in domain modules altogether (`LAZY_ALLOWED` lists the
modules that must import lazily because Django is not set up when they load).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "fangyi"

# Lowest first. A domain module of an app may import the domain of the apps before it.
DOMAIN = [
    "core",
    "notify",
    "people",
    "health",
    "screening",
    "observation",
    "tips",
    "linkage",
    "enforcement",
    "quarantine",
    "care",
    "guests",
    "patrols",
    "transfer",
    "worklog",
]

# Module names (the last part) that make an app's edge, and the top-level modules that are.
EDGE_NAMES = {"views", "api", "forms", "urls", "demo", "public", "open311", "synth"}
EDGE_PREFIXES = ("views_", "api_", "urls_", "demo_")
TOP = {"fangyi.api", "fangyi.urls", "fangyi.cli", "fangyi.demo", "fangyi.settings"}
TOP |= {"fangyi.asgi", "fangyi.wsgi", "fangyi.__init__"}

# Modules loaded before Django is set up, or only on demand: their imports stay in functions.
LAZY_ALLOWED = {"fangyi.cli", "fangyi.settings", "fangyi.demo"}
# An app's config registers its signal receivers in ready(), once the models are loaded.
LAZY_ALLOWED |= {"fangyi.quarantine.apps"}


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        yield ".".join(rel.parts), path


def _is_edge(module: str) -> bool:
    parts = module.split(".")
    if module in TOP or module.startswith("fangyi.__"):
        return True
    if "management" in parts or "templatetags" in parts:
        return True
    last = parts[-1] if parts[-1] != "__init__" else parts[-2]
    return last in EDGE_NAMES or last.startswith(EDGE_PREFIXES)


def _app(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in DOMAIN) else None


def _imports(module: str, path: pathlib.Path):
    """(line, imported module, inside a function) for every import of a fangyi module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    in_function.add(id(sub))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [base]
            if not node.module:
                names = [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name == "fangyi" or name.startswith("fangyi."):
                yield node.lineno, name, id(node) in in_function


def _resolve(name: str) -> str:
    """The module an import names (`from fangyi.health import services` → the package)."""
    parts = name.split(".")
    while parts:
        candidate = ROOT.parent.joinpath(*parts)
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return ".".join(parts)
        parts.pop()
    return name


def layer_violations() -> list[str]:
    found = []
    for module, path in _modules():
        if _is_edge(module):
            continue  # the edge may use any domain and any edge
        app = _app(module)
        if app not in DOMAIN:
            found.append(f"{module}: not in an app of DOMAIN (add the app to the order)")
            continue
        rank = DOMAIN.index(app)
        for line, name, lazy in _imports(module, path):
            target = _resolve(name)
            where = f"{path.relative_to(ROOT.parent)}:{line}"
            if _is_edge(target):
                found.append(f"{where}: domain module {module} imports the edge {target}")
                continue
            other = _app(target)
            if other is None or other == app:
                pass
            elif other not in DOMAIN:
                found.append(f"{where}: {target} is in no layer")
            elif DOMAIN.index(other) > rank:
                found.append(f"{where}: {app} imports {other}, which is above it ({target})")
            if lazy and module not in LAZY_ALLOWED:
                found.append(f"{where}: import of {target} inside a function")
    return found


def test_no_domain_module_imports_a_layer_above_it_or_hides_an_import_in_a_function():
    assert layer_violations() == []


def test_the_edge_never_imports_lazily_except_where_django_is_not_set_up_yet():
    lazy = [
        f"{path.relative_to(ROOT.parent)}:{line}: {name}"
        for module, path in _modules()
        if _is_edge(module) and module not in LAZY_ALLOWED
        for line, name, inside in _imports(module, path)
        if inside
    ]
    assert lazy == []


@pytest.mark.parametrize(
    "source, expected",
    [
        # An app importing one above it, at the top or inside a function.
        ("from fangyi.quarantine.services import placement_left\n", "above it"),
        ("def f():\n    from fangyi.quarantine import services\n", "above it"),
        # A domain module importing an edge.
        ("from fangyi.linkage.views import door_support_context\n", "imports the edge"),
        # An allowed direction still may not hide in a function.
        ("def f():\n    from fangyi.health.models import Decision\n", "inside a function"),
    ],
)
def test_the_check_catches_each_kind_of_violation(tmp_path, monkeypatch, source, expected):
    """The check itself can fail: a module of observation's domain written with each fault."""
    fake_root = tmp_path / "fangyi"
    (fake_root / "observation").mkdir(parents=True)
    (fake_root / "observation" / "__init__.py").write_text("")
    (fake_root / "observation" / "services.py").write_text(source)
    for app in ("quarantine", "linkage", "health"):
        (fake_root / app).mkdir()
        (fake_root / app / "__init__.py").write_text("")
        for name in ("services", "views", "models"):
            (fake_root / app / f"{name}.py").write_text("")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", fake_root)
    found = layer_violations()
    assert found and all(expected in f or "inside a function" in f for f in found), found
    assert any(expected in f for f in found), found


def test_the_relations_reached_by_name_from_below_are_the_models_above():
    """observation reaches placements through Person.placements and the status "active"
    without importing fangyi.quarantine: if either is renamed there, this fails."""
    from fangyi.people.models import Person
    from fangyi.quarantine.models import Placement, PlacementStatus

    assert Person._meta.get_field("placements").related_model is Placement
    assert PlacementStatus.ACTIVE == "active"
