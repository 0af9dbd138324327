"""The architecture rules of DESIGN.md's Layout, checked on the source with `ast` (nothing is run).

    python tools/check_imports.py            # prints every finding; exit status 1 when there is one

* no import cycle among wqrm's modules, counting function-local and TYPE_CHECKING imports;
* run-time modules never import build / fit / cli code (`wqrm.build`, `wqrm.fit`, `wqrm.cli`,
  `wqrm.benchmarks`);
* a function-local import of a wqrm module says why on its line (a comment): it is only for
  deferring a heavy optional dependency;
* no module over `MAX_LINES` lines.

`tests/test_architecture.py` runs it on the project and on small packages with a known defect.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Findings", "check", "module_files"]

#: Import name prefix → folder (relative to the project root) it is mapped from (pyproject.toml).
PACKAGES = {
    "wqrm": "wqrm",
    "wqrm.metrics": "metrics",
    "wqrm.baselines": "baselines",
    "wqrm.benchmarks": "benchmarks",
    "wqrm.reports": "reports",
}
TOOLING = ("wqrm.build", "wqrm.fit", "wqrm.cli", "wqrm.benchmarks")
MAX_LINES = 600


@dataclass
class Findings:
    cycles: list[list[str]] = field(default_factory=list)
    layer_violations: list[tuple[str, str]] = field(default_factory=list)
    uncommented_local_imports: list[tuple[str, int, str]] = field(default_factory=list)
    long_modules: list[tuple[str, int]] = field(default_factory=list)
    n_modules: int = 0
    n_edges: int = 0

    def __bool__(self) -> bool:
        return bool(
            self.cycles or self.layer_violations or self.uncommented_local_imports or self.long_modules
        )

    def lines(self) -> list[str]:
        out = [f"import cycle: {' -> '.join([*c, c[0]])}" for c in self.cycles]
        out += [f"run time imports tooling: {a} -> {b}" for a, b in self.layer_violations]
        out += [
            f"function-local import without a comment saying why: {m}:{n}: {src}"
            for m, n, src in self.uncommented_local_imports
        ]
        out += [f"module over {MAX_LINES} lines: {m} ({n})" for m, n in self.long_modules]
        return out


def module_files(root: Path, packages: dict[str, str] = PACKAGES) -> dict[str, Path]:
    """Module name → file, for every .py file of the mapped folders (benchmarks/perf scripts and
    other folders without an __init__.py are not modules)."""
    mods: dict[str, Path] = {}
    for prefix, folder in packages.items():
        base = root / folder
        if not base.is_dir():
            continue
        for f in sorted(base.rglob("*.py")):
            rel = f.relative_to(base)
            if "__pycache__" in rel.parts or any(
                not (base / Path(*rel.parts[:i]) / "__init__.py").exists() for i in range(1, len(rel.parts))
            ):
                continue
            parts = [p for p in rel.with_suffix("").parts if p != "__init__"]
            mods[".".join([prefix, *parts])] = f
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]):
    """(target module, line, is_function_local, source line) for every wqrm import in `path`."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)

    def resolve(target: str) -> str | None:
        while target and target not in mods:
            target = target.rpartition(".")[0]
        return target or None

    local: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local |= {id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    pkg = pkg.rpartition(".")[0]
                base = f"{pkg}.{base}" if base else pkg
            # `from p import m` imports module p.m when there is one, else a name of p
            targets = [f"{base}.{a.name}" for a in node.names]
        resolved = {resolve(t) for t in targets if t.startswith("wqrm")} - {None}
        for m in sorted(resolved):
            # importing a submodule's own parent package is not an edge (its __init__ runs first)
            if m != name and not name.startswith(m + "."):
                yield m, node.lineno, id(node) in local, lines[node.lineno - 1].strip()


def _is_tooling(module: str) -> bool:
    return any(module == t or module.startswith(t + ".") for t in TOOLING)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return sorted(found)


def check(root: Path, packages: dict[str, str] = PACKAGES) -> Findings:
    mods = module_files(root, packages)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    out = Findings(n_modules=len(mods))
    for name, path in mods.items():
        for target, lineno, is_local, src in _imports(name, path, mods):
            graph[name].add(target)
            if _is_tooling(target) and not _is_tooling(name):
                out.layer_violations.append((name, target))
            if is_local and "#" not in src:
                out.uncommented_local_imports.append((name, lineno, src))
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            out.long_modules.append((name, n))
    out.n_edges = sum(len(v) for v in graph.values())
    out.cycles = _cycles(graph)
    out.layer_violations = sorted(set(out.layer_violations))
    return out


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    findings = check(root)
    for line in findings.lines():
        print(line)
    print(
        f"{findings.n_modules} modules, {findings.n_edges} internal imports, {len(findings.lines())} findings"
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
