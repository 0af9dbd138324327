"""Generated hostile inputs for `tests/test_hostile.py`: texts, files, JSONL rows and pair rows.

Everything is built from short strings written here (seeded where random), so the suite needs no
data and is the same on every run. Each input has a name that says what it is.
"""

from __future__ import annotations

import codecs
import gzip
import json
import random

__all__ = ["GIANTS", "api_inputs", "files", "jsonl_lines", "pair_lines", "texts"]

PROSE = "The tide came in over the slipway. She counted the boats twice, and then she went home."
PROSE2 = "By morning the storm had gone inland. Nothing had sunk, and nobody asked why."

#: The two large texts the issue names (each costs seconds): scored once per interface.
GIANTS = {
    "word-200k-chars": "a" * 200_000,
    "sentences-10000-one-word": " ".join(["Go."] * 10_000),
}


def texts() -> dict[str, str]:
    """Hostile texts as Python strings (all valid Unicode scalar strings)."""
    t: dict[str, str] = {
        # empty and whitespace of every kind
        "empty": "",
        "space": " ",
        "newlines": "\n\n\n",
        "tabs": "\t \t\t",
        "crlf-only": "\r\n\r\n",
        "nbsp": "\u00a0\u00a0\u00a0",
        "zero-width-space": "\u200b\u200b\u200b",
        "ideographic-space": "\u3000\u3000",
        "bom-only": "\ufeff",
        "line-paragraph-separators": "\u2028\u2029",
        "vertical-tab-form-feed": "\x0b\x0c\x0b",
        # control and bidirectional characters
        "controls": "".join(chr(c) for c in range(1, 32)),
        "controls-in-prose": PROSE.replace(" ", "\x07 ", 3) + "\x1b[31m red \x1b[0m",
        "del-char": PROSE + "\x7f\x7f",
        "c1-controls": PROSE + "".join(chr(c) for c in range(0x80, 0xA0)),
        "bidi-override": "\u202e" + PROSE + "\u202c",
        "bidi-isolates": "\u2066\u2067\u2068" + PROSE + "\u2069",
        "rtl-mark": "\u200f" + PROSE + "\u200e",
        "zero-width-joiners": "a\u200db\u200dc\u200d " * 20,
        "soft-hyphens": PROSE.replace("o", "o\u00ad"),
        # emoji and symbols
        "emoji-only": "😀" * 50,
        "emoji-in-prose": PROSE + " 🌊🚢⚓",
        "emoji-zwj-family": "👨\u200d👩\u200d👧\u200d👦 " * 10,
        "flags": "🇬🇧🇫🇷🇯🇵 " * 10,
        "skin-tones": "👍🏽 👋🏿 " * 10,
        "math-symbols": "∑∫√∞ ≤ ≥ ≠ ∀∃ ∂ℝ " * 5,
        "box-drawing": "┌──┐\n│  │\n└──┘",
        "private-use": "\ue000\ue001 " * 20,
        "noncharacters": "\ufffe\uffff " + PROSE,
        "replacement-chars": "\ufffd" * 30,
        "max-code-point": "\U0010ffff" * 10,
        "combining-zalgo": "Z̷̢̛̤a̶̡͎l̴̰̈g̵̣͂ő̸̙ " * 40,
        "fullwidth": "Ｔｈｅ ｔｉｄｅ ｃａｍｅ ｉｎ． Ｓｈｅ ｗｅｎｔ ｈｏｍｅ．",
        # other scripts
        "chinese": "潮水漫过了滑道。她数了两遍船，然后回家了。暴风雨在早上转向了内陆。",
        "japanese": "潮が満ちてきた。彼女は船を二度数えて、家に帰った。",
        "korean": "조수가 경사로 위로 들어왔다. 그녀는 배를 두 번 세고 집에 갔다.",
        "arabic": "جاء المد فوق المنحدر. عدّت القوارب مرتين ثم عادت إلى البيت.",
        "hebrew": "הגאות עלתה על המזח. היא ספרה את הסירות פעמיים והלכה הביתה.",
        "devanagari": "ज्वार ढलान पर चढ़ आया। उसने नावों को दो बार गिना और घर चली गई।",
        "thai-no-spaces": "น้ำขึ้นมาถึงทางลาดเธอนับเรือสองครั้งแล้วกลับบ้าน",
        "greek-cyrillic-mix": "Η παλίρροια ήρθε. Прилив пришёл. The tide came.",
        "mixed-scripts": PROSE + " 潮水 جاء המד ज्वार 🌊",
        # markup, code, data
        "html": "<html><body><p>The <b>tide</b> came in.</p><script>alert(1)</script></body></html>",
        "markdown": "# Title\n\n* one\n* two\n\n```python\nprint(1)\n```\n\n> a quote\n\n" + PROSE,
        "python-code": "def f(x):\n    return [i * i for i in range(x) if i % 2]\n\nprint(f(10))\n",
        "json-text": json.dumps({"a": [1, 2, {"b": None}], "c": "d", "e": 1.5}),
        "csv-text": "a,b,c\n1,2,3\n4,5,6\n",
        "latex": "\\begin{equation} x^2 + y^2 = z^2 \\end{equation} \\textbf{tide}",
        "urls": "https://example.com/a?b=c#d http://x.y/z mailto:a@b.c",
        "rich-markup-lookalike": "[red]tide[/red] [/bold] [link=x]boat[/link] [" + PROSE + "]",
        "sql-quotes": "Robert'); DROP TABLE students;-- \"quoted\" 'single' `tick`",
        "backslashes": "C:\\path\\to\\file \\n \\x00 \\u0000 " + PROSE,
        "percent-format": "%s %d %(x)s {0} {x} ${HOME} " + PROSE,
        # degenerate prose
        "single-char": "a",
        "single-word": "Lighthouse",
        "single-sentence": PROSE,
        "numbers-only": " ".join(str(i) for i in range(200)),
        "punctuation-only": "!!! ??? ... ,,, ;;; --- ***",
        "one-letter-words": " ".join("abcdefghij" * 30),
        "repeated-sentence": " ".join([PROSE] * 40),
        "no-punctuation-long": " ".join(PROSE.replace(".", "").replace(",", "").split() * 30),
        "words-2000-one-line": " ".join(["word"] * 2_000),
        "cr-only-newlines": PROSE + "\r" + PROSE2 + "\r" + PROSE,
        "many-blank-lines": PROSE + "\n" * 1000 + PROSE2,
        "many-paragraphs": "\n\n".join([PROSE, PROSE2] * 40),
        "dialogue": '"Go," she said.\n\n"Where?"\n\n"Anywhere."',
        "all-caps": PROSE.upper(),
        "no-spaces": PROSE.replace(" ", ""),
        "ellipses": "… … … " + PROSE + " …",
        "hyphen-chain": "-".join(["sea"] * 300),
        "long-sentence": "and the boats " * 300 + ".",
    }
    return t


def _invalid_utf8() -> dict[str, bytes]:
    p = PROSE.encode()
    return {
        "invalid-utf8-continuation": p + b" \x80\x81 " + p,
        "invalid-utf8-truncated": p + b" \xe2\x82",
        "invalid-utf8-overlong": p + b" \xc0\xaf " + p,
        "invalid-utf8-surrogate": p + b" \xed\xa0\x80 " + p,
        "invalid-utf8-ff": b"\xff" + p,
        "invalid-utf8-start-mid": b"\xbf" + p,
    }


def _binary() -> dict[str, bytes]:
    rng = random.Random(16)
    return {
        "binary-random": bytes(rng.randrange(256) for _ in range(4096)),
        "binary-png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),
        "binary-gzip": gzip.compress(PROSE.encode() * 10, mtime=0),
        "binary-elf": b"\x7fELF\x02\x01\x01\x00" + bytes(120),
        "binary-pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + bytes(40),
        "binary-nul-in-prose": PROSE.encode() + b"\x00" + PROSE.encode(),
        "binary-all-nul": bytes(256),
    }


def _encodings() -> dict[str, bytes]:
    # English with Latin-1 letters (a French text would be refused as an unsupported language)
    cafe = "The café was closed. It rained on the sea, and nobody by the façade waited for the naïve boat."
    return {
        "utf16-le-bom": codecs.BOM_UTF16_LE + PROSE.encode("utf-16-le"),
        "utf16-be-bom": codecs.BOM_UTF16_BE + PROSE.encode("utf-16-be"),
        "utf16-cjk-bom": "潮水漫过了滑道。".encode("utf-16"),
        "utf16-no-bom": PROSE.encode("utf-16-le"),
        "utf32-bom": PROSE.encode("utf-32"),
        "latin1": cafe.encode("latin-1"),
        "cp1252-smart-quotes": "\u201cWe sail,\u201d she said \u2014 and went.".encode("cp1252"),
        "utf8-bom": codecs.BOM_UTF8 + PROSE.encode(),
        "utf8-bom-twice": codecs.BOM_UTF8 * 2 + PROSE.encode(),
    }


def files(with_prose: bool = True) -> dict[str, bytes]:
    """File contents: every hostile text as UTF-8 — alone and, with `with_prose`, after a paragraph
    of prose (the short ones: the long ones only cost time) — plus invalid UTF-8, binary data and
    other encodings."""
    out: dict[str, bytes] = {}
    for name, text in texts().items():
        out[f"{name}.txt"] = text.encode("utf-8")
        if with_prose and len(text) < 2000:
            out[f"prose+{name}.txt"] = (PROSE + "\n\n" + text).encode("utf-8")
    for group in (_invalid_utf8(), _binary(), _encodings()):
        out.update({f"{name}.txt": data for name, data in group.items()})
    return out


def api_inputs() -> dict[str, object]:
    """Inputs for the Python API: every hostile text, strings no file can hold (lone surrogates, NUL)
    and values that are not text at all."""
    out: dict[str, object] = dict(texts())
    out.update(
        {
            "lone-high-surrogate": PROSE + "\ud800",
            "lone-low-surrogate": "\udc80" + PROSE,
            "nul-in-string": PROSE + "\x00" + PROSE2,
            "none": None,
            "bytes": PROSE.encode(),
            "int": 42,
            "float-nan": float("nan"),
            "list": [PROSE],
            "dict": {"text": PROSE},
        }
    )
    return out


def jsonl_lines() -> list[tuple[str, bytes]]:
    """(expected id, raw line) for `wqrm score --input`: every hostile text as a row, rows with
    broken JSON, missing / non-string fields and bad context fields, and huge lines. The expected id
    is the one its output record must carry (None: the line is blank and yields no record)."""
    rows: list[tuple[str | None, bytes]] = []
    n = 0

    def add(row_id, raw: bytes) -> None:
        nonlocal n
        n += 1
        rows.append((row_id if row_id is not None else f"line:{n}", raw))

    def row(obj: dict) -> bytes:
        return json.dumps(obj, ensure_ascii=False).encode("utf-8")

    for name, text in texts().items():
        add(f"t:{name}", row({"id": f"t:{name}", "text": text}))
    add("t:surrogate", b'{"id": "t:surrogate", "text": "tide \\ud800 boats"}')
    add("t:nul", b'{"id": "t:nul", "text": "tide \\u0000 boats"}')
    add("t:escaped-bidi", b'{"id": "t:escaped-bidi", "text": "\\u202eThe tide came in over the slipway."}')
    broken = [
        b"{not json",
        b'{"id": "x", "text": "unterminated}',
        b"[1, 2, 3]",
        b'"just a string"',
        b"42",
        b"null",
        b'{"id": "nan", "text": NaN}',
        b'{"id": Infinity, "text": "x"}',
        b"[" * 100_000,  # nesting deeper than the parser's recursion limit
        PROSE.encode("utf-8"),
        b"\xff\xfe{\x00",
        b'{"id": "latin", "text": "caf\xe9"}',
    ]
    for raw in broken:
        add(None, raw)
    add("dup-key2", b'{"id": "dup-key", "id": "dup-key2", "text": 1}')
    fields = {
        "missing-text": {"id": "f:missing-text"},
        "text-null": {"id": "f:text-null", "text": None},
        "text-int": {"id": "f:text-int", "text": 5},
        "text-list": {"id": "f:text-list", "text": [PROSE]},
        "text-object": {"id": "f:text-object", "text": {"a": PROSE}},
        "text-bool": {"id": "f:text-bool", "text": True},
        "task-unknown": {"id": "f:task-unknown", "text": PROSE, "task": "poetry"},
        "task-int": {"id": "f:task-int", "text": PROSE, "task": 3},
        "prompt-list": {"id": "f:prompt-list", "text": PROSE, "prompt": [PROSE2]},
        "prompt-empty": {"id": "f:prompt-empty", "text": PROSE, "prompt": "   "},
        "references-int": {"id": "f:references-int", "text": PROSE, "task": "continue", "references": 7},
        "references-mixed": {"id": "f:references-mixed", "text": PROSE, "references": [PROSE2, None]},
        "references-empty-list": {"id": "f:references-empty-list", "text": PROSE, "references": []},
        "persona-missing": {"id": "f:persona-missing", "text": PROSE, "persona": "/nonexistent/persona"},
        "persona-int": {"id": "f:persona-int", "text": PROSE, "persona": 1},
        "group-object": {"id": "f:group-object", "text": PROSE, "group": {"a": 1}},
        "group-bool": {"id": "f:group-bool", "text": PROSE, "group": True},
        "group-float": {"id": "f:group-float", "text": PROSE, "group": 1.5},
    }
    for obj in fields.values():
        add(obj["id"], row(obj))
    for bad_id in ([1, 2], {"a": 1}, True):
        add(None, row({"id": bad_id, "text": PROSE}))
    add(1234, row({"id": 1234, "text": PROSE2}))
    add(1.5, row({"id": 1.5, "text": PROSE2}))
    add(None, row({"text": PROSE2}))  # no id: line:N
    add("ctx:continue", row({"id": "ctx:continue", "text": PROSE2, "task": "continue", "prompt": PROSE}))
    add(
        "ctx:refs-string",
        row({"id": "ctx:refs-string", "text": PROSE2, "task": "rephrase", "references": PROSE}),
    )
    add("grp:a", row({"id": "grp:a", "text": PROSE, "group": "g1", "prompt": "The sea."}))
    add("grp:b", row({"id": "grp:b", "text": PROSE2, "group": "g1", "prompt": "The sea."}))
    add("grp:empty", row({"id": "grp:empty", "text": "", "group": "g1", "prompt": "The sea."}))
    add("grp:mismatch-1", row({"id": "grp:mismatch-1", "text": PROSE, "group": 7, "task": "continue"}))
    add("grp:mismatch-2", row({"id": "grp:mismatch-2", "text": PROSE2, "group": 7}))
    add("grp:alone", row({"id": "grp:alone", "text": PROSE, "group": "solo"}))
    add("huge-line", row({"id": "huge-line", "text": " ".join([PROSE] * 60), "pad": "x " * 500_000}))
    add("huge-field", row({"id": "huge-field", "text": PROSE, "meta": "x" * 1_000_000}))
    return rows


def pair_lines() -> list[tuple[bool, bytes]]:
    """(usable, raw line) for `wqrm eval-pairs`: TRL standard and conversational rows (implicit and
    explicit prompt), edit pairs, and rows that cannot be used."""
    good, bad = PROSE, "Go go go go go go go."
    rows: list[tuple[bool, bytes]] = []

    def add(usable: bool, obj) -> None:
        raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode("utf-8")
        rows.append((usable, raw))

    def msg(role, content):
        return {"role": role, "content": content}

    add(True, {"chosen": good, "rejected": bad})
    add(True, {"prompt": "Write.", "chosen": good, "rejected": bad})
    add(True, {"original": bad, "edited": good})
    add(
        True,
        {
            "prompt": [msg("user", "Write.")],
            "chosen": [msg("assistant", good)],
            "rejected": [msg("assistant", bad)],
        },
    )
    add(
        True,
        {
            "chosen": [msg("user", "W."), msg("assistant", good)],
            "rejected": [msg("user", "W."), msg("assistant", bad)],
        },
    )
    add(
        True,
        {
            "chosen": [msg("assistant", [{"type": "text", "text": good}])],
            "rejected": [msg("assistant", bad)],
            "prompt": [],
        },
    )
    for name, text in texts().items():
        usable = bool(text.strip()) and text.strip() != good
        add(usable, {"id": f"p:{name}", "chosen": good, "rejected": text})
    add(False, b"{broken")
    add(False, b"[]")
    add(False, {"chosen": good})
    add(False, {"rejected": bad})
    add(False, {"chosen": 1, "rejected": 2})
    add(False, {"chosen": good, "rejected": [msg("assistant", bad)]})
    add(False, {"chosen": [{"role": "assistant"}], "rejected": [msg("assistant", bad)]})
    add(False, {"chosen": [msg("user", "W.")], "rejected": [msg("user", "W.")]})
    add(False, {"chosen": good, "rejected": good})
    add(False, {"original": good, "edited": None})
    add(False, {"original": 3, "edited": good})
    add(False, {"text": good})
    add(False, {"chosen": good + "\ud800", "rejected": bad})
    add(False, {"chosen": "tide \u0000 boats", "rejected": bad})
    add(False, b'{"chosen": NaN, "rejected": "x"}')
    add(False, b"\xff\xfe\x00")
    return rows
