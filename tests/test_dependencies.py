"""Every declared dependency is used by the code, and the installed set is consistent (`pip check`)."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Folders whose code runs (run time, build/fit, benchmarks, reports, tools); tests do not count.
CODE = ("wqrm", "metrics", "baselines", "benchmarks", "reports", "tools")
#: Dependencies no module names, with the reason they are declared.
INDIRECT = {
    "sentencepiece": "DebertaV2Tokenizer (the design's DeBERTa-v3 base: train-edit --base) needs it",
}


def _requirement_name(req: str) -> str:
    return re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0]


def _import_names(dist: str) -> set[str]:
    """Top-level importable names a distribution installs (from its RECORD)."""
    names = set()
    for f in md.distribution(dist).files or []:
        top = f.parts[0]
        if top.endswith((".dist-info", ".data")) or top.startswith("..") or top == "__pycache__":
            continue
        if len(f.parts) > 1 or top.endswith(".py"):
            names.add(top.removesuffix(".py"))
    return names


def _used_names() -> set[str]:
    """Top-level module names the code imports, or names as strings (importlib, resources, spaCy)."""
    used = set()
    for folder in CODE:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    used.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    used.add(node.module.split(".")[0])
                elif (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and re.fullmatch(r"[A-Za-z_][\w.]*", node.value)
                ):
                    used.add(node.value.split(".")[0])
    return used


def declared_dependencies() -> list[str]:
    """The `[project] dependencies` strings of pyproject.toml (a flat list of quoted requirements;
    read without tomllib, which Python 3.10 lacks)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    return re.findall(r'"([^"]+)"', block)


def test_every_declared_dependency_is_used():
    used = _used_names()
    unused = []
    assert len(declared_dependencies()) > 20
    for req in declared_dependencies():
        dist = _requirement_name(req)
        if dist in INDIRECT:
            continue
        if not _import_names(dist) & used:
            unused.append(dist)
    assert unused == []


def test_pip_check_is_clean():
    done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
