"""Imports point one way (docs/CONTRACTS.md): no subpackage of `mighty` imports sideways or up.

Read from the source with `ast`, so a lazy import inside a function counts as much as a
top-level one.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mighty"
BELOW = {  # subpackage -> the subpackages it may import
    "runtime": set(),
    "models": {"runtime"},
    "training": {"runtime", "models"},
    "rewards": {"runtime", "models"},
    "data": {"runtime", "models", "rewards"},
    "evals": {"runtime", "models", "rewards", "data"},
    "demo": {"runtime", "models", "rewards", "data", "evals"},
    "distill": {"runtime", "models", "training", "rewards", "data", "evals"},
    "rl": {"runtime", "models", "training", "rewards", "data", "evals"},
    "experiments": {"runtime", "models", "training", "rewards", "data", "evals", "demo", "distill", "rl"},
}


def imported_modules(path: Path, root: Path = PACKAGE) -> list[str]:
    """Absolute names of every module `path` (under `root`, the `mighty` dir) imports, relative
    imports resolved."""
    package = ("mighty",) + path.relative_to(root).parent.parts
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            names.append(module)
            if module == "mighty":  # `from mighty import data`
                names += [f"mighty.{a.name}" for a in node.names]
    return names


def subpackage_imports(path: Path, root: Path = PACKAGE) -> set[str]:
    return {m.split(".")[1] for m in imported_modules(path, root)
            if m.startswith("mighty.") and m.split(".")[1] in BELOW}


def test_every_subpackage_has_a_level():
    found = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert found == set(BELOW), f"add {found - set(BELOW)} to BELOW (and docs/CONTRACTS.md)"


@pytest.mark.parametrize("sub", sorted(BELOW))
def test_imports_point_down(sub):
    wrong = {str(f.relative_to(PACKAGE.parent)): sorted(bad)
             for f in sorted((PACKAGE / sub).rglob("*.py"))
             if (bad := subpackage_imports(f) - BELOW[sub] - {sub})}
    assert not wrong, f"{sub} may import only {sorted(BELOW[sub])}; these import more: {wrong}"


def test_the_checker_sees_lazy_relative_and_from_package_imports(tmp_path):
    fake = tmp_path / "mighty"
    (fake / "models").mkdir(parents=True)
    src = fake / "models" / "x.py"
    src.write_text("def f():\n    from ..rl import train\n    from mighty import data\n    import mighty.demo.app\n")
    assert subpackage_imports(src, fake) == {"rl", "data", "demo"}
