"""The README cannot drift: every command of its ```bash blocks and every ```python block runs.

Each command is one test, run in README order in a sandbox: a temporary checkout-like directory
holding a copy of `examples/` and links to `benchmarks/` and `tools/` (so nothing a command writes
lands in the repository), with `../shared/data` pointing at the development data. Commands:

* `make demo` / `make test` are the set-up (they are what `make` itself runs): not rerun here;
* `wqrm …` lines run in this process (models are loaded once), after shell-style glob expansion;
  a line with shell operators (pipes, redirections, `&&`) runs through bash instead;
* every other line (`python …`, …) runs through bash with the project's virtualenv first on PATH,
  bounded by a timeout. `TINY` appends arguments that shrink a long run to a tiny input (argparse:
  the last value wins); a command that mentions the development data needs the `data_dir` fixture.

Each must exit with status 0, or with the status N its comment announces (`# exit N: …`, for a
command shown failing on purpose), and print no traceback. Python blocks run in one fresh namespace
each.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wqrm.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SETUP = ("make demo", "make test")
#: Shrinks a long-running command to a tiny input: prefix → (extra arguments, needs the data).
TINY: dict[str, tuple[list[str], bool]] = {
    "python benchmarks/perf/throughput.py": (["--n", "6", "--rounds", "1"], True),
}
TIMEOUT = 600
_SHELL_OPS = re.compile(r"[|<>;&`$]")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


def _strip_comment(line: str) -> str:
    """The line without a trailing `# comment` (a `#` inside quotes or inside a word is kept)."""
    in_single = in_double = False
    for i, ch in enumerate(line):
        if ch == "'" and not in_double:
            in_single = not in_single
        elif ch == '"' and not in_single:
            in_double = not in_double
        elif ch == "#" and not in_single and not in_double and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip()
    return line.strip()


def readme_commands() -> list[str]:
    """Every command line of the README's bash blocks (continuations joined, comments dropped)."""
    commands = []
    for block in _blocks("bash"):
        pending = ""
        for raw in block.splitlines():
            line = pending + raw
            if line.rstrip().endswith("\\"):
                pending = line.rstrip()[:-1] + " "
                continue
            pending = ""
            command = _strip_comment(line)
            if command:
                commands.append(command)
    return commands


def expected_exit(command: str) -> int:
    """The exit status the README announces for a command (`# exit N: …` after it), else 0."""
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            if _strip_comment(line) == command:
                found = re.search(r"#\s*exit (\d+)\b", line[line.index(command) + len(command) :])
                return int(found.group(1)) if found else 0
    return 0


ALL_COMMANDS = readme_commands()
COMMANDS = [c for c in ALL_COMMANDS if c not in SETUP]
PYTHON_BLOCKS = _blocks("python")


def test_the_readme_shows_commands_and_code():
    assert len([c for c in COMMANDS if c.startswith("wqrm ")]) >= 8
    assert [c for c in ALL_COMMANDS if c in SETUP] == list(SETUP)  # the two set-up commands, once each
    assert len(PYTHON_BLOCKS) >= 2


def test_comment_stripping_and_continuations():
    assert _strip_comment("wqrm score a.txt   # table") == "wqrm score a.txt"
    assert _strip_comment("wqrm x --name '#1' # c") == "wqrm x --name '#1'"
    assert _strip_comment("# only a comment") == ""
    failing = [c for c in COMMANDS if expected_exit(c) != 0]  # shown failing on purpose
    assert len(failing) == 2 and all(expected_exit(c) == 1 for c in failing), failing


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A checkout-like working directory: examples copied, benchmarks/tools linked, data linked."""
    base = tmp_path_factory.mktemp("readme")
    work = base / "repo"
    work.mkdir()
    shutil.copytree(ROOT / "examples", work / "examples")
    for name in ("benchmarks", "tools"):
        (work / name).symlink_to(ROOT / name, target_is_directory=True)
    data = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))
    (base / "shared").mkdir()
    if data.exists():
        (base / "shared" / "data").symlink_to(data.resolve(), target_is_directory=True)
    return work


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("WQRM_NLTK_DATA", str(ROOT / ".nltk_data"))
    return env


def _expand(argv: list[str], cwd: Path) -> list[str]:
    out = []
    for arg in argv:
        matches = sorted(glob.glob(arg, root_dir=cwd)) if any(c in arg for c in "*?[") else []
        out.extend(matches or [arg])
    return out


@pytest.mark.parametrize("command", COMMANDS, ids=[c[:80] for c in COMMANDS])
def test_readme_command_runs(command, sandbox, request, monkeypatch):
    if "shared/data" in command or "WQRM_DATA_DIR" in command:
        request.getfixturevalue("data_dir")
    for prefix, (extra, needs_data) in TINY.items():
        if command.startswith(prefix):
            command = f"{command} {shlex.join(extra)}"
            if needs_data:
                request.getfixturevalue("data_dir")
    argv = shlex.split(command)
    if argv[0] == "wqrm" and not _SHELL_OPS.search(command):
        monkeypatch.chdir(sandbox)
        result = CliRunner().invoke(app, _expand(argv[1:], sandbox), catch_exceptions=True)
        output = result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{command} raised {result.exception!r}\n{output}"
        )
        code = result.exit_code
    else:
        done = subprocess.run(
            ["bash", "-c", command], cwd=sandbox, env=_env(), capture_output=True, text=True, timeout=TIMEOUT
        )
        output, code = done.stdout + done.stderr, done.returncode
    expected = expected_exit(command)
    assert code == expected, f"{command!r} exited with {code}, not {expected}:\n{output[-3000:]}"
    assert "Traceback" not in output, output[-3000:]


#: The directory the DDPO block loads its policy from; the test writes a tiny random GPT-2 there.
TINY_POLICY = "runs/tiny-policy"


def _tiny_policy(sandbox: Path) -> None:
    """A tiny randomly initialised GPT-2 and a BPE tokenizer trained on the example candidates, saved
    where the README's DDPO block loads its policy (the helpers of tests/test_ddpo_trainer.py)."""
    import json

    from tests.test_ddpo_trainer import _model, _tokenizer  # deferred: torch/trl only for this block

    rows = [json.loads(line) for line in (sandbox / "examples/ddpo/candidates.jsonl").open(encoding="utf-8")]
    tok = _tokenizer([t for r in rows for t in (r["prompt"], *r["candidates"])] * 3)
    model = _model(tok, n_positions=1024)  # TRL's default max_length
    model.generation_config.max_new_tokens = 8
    tok.save_pretrained(sandbox / TINY_POLICY)
    model.save_pretrained(sandbox / TINY_POLICY)


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_readme_python_block_runs(index, sandbox, monkeypatch):
    monkeypatch.chdir(sandbox)
    if TINY_POLICY in PYTHON_BLOCKS[index]:
        _tiny_policy(sandbox)
        if not (sandbox / "pairs.jsonl").exists():  # the README's `wqrm pairs` command writes it
            result = CliRunner().invoke(
                app, ["pairs", "--input", "examples/ddpo/candidates.jsonl", "--output", "pairs.jsonl"]
            )
            assert result.exit_code == 0, result.output
    code = compile(PYTHON_BLOCKS[index], f"README.md python block {index + 1}", "exec")
    exec(code, {"__name__": "__readme__"})
