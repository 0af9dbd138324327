"""Reading the inputs of `wqrm bench`: systems' outputs, reference corpora and prompts.

One reader serves systems and references; a path is read by its kind:

* `.jsonl` — one text per row: `{"text": …}` plus, optionally, `"id"` and `"prompt_id"` (a row
  with a `"prompt"` string and no `"prompt_id"` gets the prompt's hash as its id, and the prompt
  text is kept). Several rows may share a prompt (several samples per prompt).
* a directory — one text per `.txt` / `.md` file (sorted by name; the id is the file name), and
  every `.jsonl` file in it read as above.
* any other file (`.txt`) — split into passages: consecutive blank-line separated paragraphs
  joined until the passage holds at least `passage_words` whitespace words (the reference
  profile's rule, so a book becomes comparable passages rather than one huge text).

Bad rows (invalid JSON, no `text`) raise `CorpusError` naming the file and line: a benchmark is
only meaningful over the inputs the user meant, so nothing is silently dropped. Empty texts are
kept and reported by the scorer as error records.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

from wqrm import jsonl

__all__ = ["CorpusError", "Item", "parse_named_path", "read_items", "read_prompts", "sample_items"]

_BLANK_LINE = re.compile(r"\n[ \t]*\n+")


class CorpusError(ValueError):
    """An input file that cannot be read as a corpus (the message names the file and line)."""


@dataclass(frozen=True)
class Item:
    """One text of a system or reference corpus."""

    id: str
    text: str
    prompt_id: str | None = None
    prompt: str | None = None  # the prompt text when the row carried it


def parse_named_path(value: str, option: str) -> tuple[str, Path]:
    """`NAME=PATH` → (NAME, PATH); a bare PATH is named after its file stem."""
    name, sep, path = value.partition("=")
    if not sep:
        name, path = Path(value).stem, value
    name = name.strip()
    if not name or not path:
        raise CorpusError(f"{option} {value!r}: expected NAME=PATH")
    p = Path(path)
    if not p.exists():
        raise CorpusError(f"{option} {value!r}: {p} does not exist")
    return name, p


def _prompt_key(prompt: str) -> str:
    return "p" + hashlib.sha1(prompt.encode("utf-8")).hexdigest()[:12]


def _jsonl_items(path: Path) -> list[Item]:
    items: list[Item] = []
    for lineno, row, error in jsonl.records(path):
        if error is not None:
            raise CorpusError(f"{path}: {error}")
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise CorpusError(f"{path}:{lineno}: expected an object with a string 'text' field")
        prompt = row.get("prompt") if isinstance(row.get("prompt"), str) else None
        prompt_id = row.get("prompt_id")
        if prompt_id is None and prompt is not None:
            prompt_id = _prompt_key(prompt)
        items.append(
            Item(
                id=str(row.get("id", f"{path.stem}:{lineno}")),
                text=row["text"],
                prompt_id=None if prompt_id is None else str(prompt_id),
                prompt=prompt,
            )
        )
    return items


def passages(text: str, passage_words: int) -> list[str]:
    """Blank-line paragraphs joined until each passage has ≥ `passage_words` words (a shorter
    remainder at the end is kept when it is the only passage, else dropped like the profile's)."""
    out: list[str] = []
    buf: list[str] = []
    count = 0
    for para in _BLANK_LINE.split(text.replace("\r\n", "\n")):
        para = para.strip()
        if not para:
            continue
        buf.append(para)
        count += len(para.split())
        if count >= passage_words:
            out.append("\n\n".join(buf))
            buf, count = [], 0
    if buf and not out:
        out.append("\n\n".join(buf))
    return out


def read_items(path: str | Path, *, passage_words: int = 150) -> list[Item]:
    """Every text of a corpus path (module docstring: .jsonl rows, directory files, .txt passages)."""
    p = Path(path)
    if p.is_dir():
        items: list[Item] = []
        for f in sorted(p.iterdir()):
            if f.suffix == ".jsonl":
                items.extend(_jsonl_items(f))
            elif f.suffix in (".txt", ".md") and f.is_file():
                items.append(Item(id=f.name, text=_read(f)))
        if not items:
            raise CorpusError(f"{p}: no .txt, .md or .jsonl files")
        return items
    if p.suffix == ".jsonl":
        items = _jsonl_items(p)
    else:
        items = [
            Item(id=f"{p.name}#{i + 1}", text=t) for i, t in enumerate(passages(_read(p), passage_words))
        ]
    if not items:
        raise CorpusError(f"{p}: no texts")
    return items


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def read_prompts(path: str | Path) -> dict[str, str]:
    """{prompt id: prompt text} from a JSONL of `{"id", "text"}` rows (`"prompt"` also accepted)."""
    p = Path(path)
    prompts: dict[str, str] = {}
    for lineno, row, error in jsonl.records(p):
        if error is not None:
            raise CorpusError(f"{p}: {error}")
        text = row.get("text", row.get("prompt")) if isinstance(row, dict) else None
        if not isinstance(text, str) or "id" not in row:
            raise CorpusError(f"{p}:{lineno}: expected an object with 'id' and 'text'")
        prompts[str(row["id"])] = text
    return prompts


def sample_items(items: list[Item], max_items: int | None, seed: int, name: str) -> list[Item]:
    """A seeded uniform sample of at most `max_items` items, in input order (None: all)."""
    if max_items is None or len(items) <= max_items:
        return items
    keep = sorted(random.Random(f"{seed}:{name}").sample(range(len(items)), max_items))
    return [items[i] for i in keep]
