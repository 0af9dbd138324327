"""Install WordNet 3.0 for NLTK into wqrm's project-local data directory (no run-time fetching).

Order of attempts:
1. already present in the target (`$WQRM_NLTK_DATA`, default `.nltk_data/`): nothing to do;
2. Debian's `wordnet-base` files in /usr/share/wordnet (installed with apt-get when running as
   root on Debian/Ubuntu and missing): copied into `<target>/corpora/wordnet`, plus the
   `lexnames` index NLTK needs, which wordnet-base does not ship (its 45 rows are the fixed
   lexicographer-file table of WordNet 3.0, documented in lexnames(5WN));
3. `nltk.download("wordnet")` when online;
4. otherwise a message naming the fix. WordNet is optional for wqrm (only `wordnet_sim` needs it),
   so this script never fails the install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("WQRM_NLTK_DATA", ROOT / ".nltk_data"))
WN_DIR = TARGET / "corpora" / "wordnet"
DEBIAN_DIR = Path("/usr/share/wordnet")
WN_FILES = [f"{kind}.{pos}" for kind in ("data", "index") for pos in ("noun", "verb", "adj", "adv")] + [
    f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv")
]
LEXNAMES = [
    "adj.all",
    "adj.pert",
    "adv.all",
    "noun.Tops",
    "noun.act",
    "noun.animal",
    "noun.artifact",
    "noun.attribute",
    "noun.body",
    "noun.cognition",
    "noun.communication",
    "noun.event",
    "noun.feeling",
    "noun.food",
    "noun.group",
    "noun.location",
    "noun.motive",
    "noun.object",
    "noun.person",
    "noun.phenomenon",
    "noun.plant",
    "noun.possession",
    "noun.process",
    "noun.quantity",
    "noun.relation",
    "noun.shape",
    "noun.state",
    "noun.substance",
    "noun.time",
    "verb.body",
    "verb.change",
    "verb.cognition",
    "verb.communication",
    "verb.competition",
    "verb.consumption",
    "verb.contact",
    "verb.creation",
    "verb.emotion",
    "verb.motion",
    "verb.perception",
    "verb.possession",
    "verb.social",
    "verb.stative",
    "verb.weather",
    "adj.ppl",
]
SYNTACTIC_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}


def installed() -> bool:
    return all((WN_DIR / f).exists() for f in [*WN_FILES, "lexnames"])


def from_debian() -> bool:
    if not (DEBIAN_DIR / "data.noun").exists():
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            return False
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        cmd = ["apt-get", "install", "-y", "-qq", "wordnet-base"]
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
                return False
    if not (DEBIAN_DIR / "data.noun").exists():
        return False
    WN_DIR.mkdir(parents=True, exist_ok=True)
    for f in DEBIAN_DIR.iterdir():
        if f.is_file():
            shutil.copy2(f, WN_DIR / f.name)
    rows = [f"{i:02d}\t{name}\t{SYNTACTIC_CATEGORY[name.split('.')[0]]}" for i, name in enumerate(LEXNAMES)]
    (WN_DIR / "lexnames").write_text("\n".join(rows) + "\n", encoding="ascii")
    return installed()


def from_nltk() -> bool:
    try:
        import nltk

        return bool(nltk.download("wordnet", download_dir=str(TARGET), quiet=True)) and installed()
    except Exception:
        return False


def main() -> int:
    if installed():
        print(f"WordNet: already in {WN_DIR}")
        return 0
    for how, step in (("Debian wordnet-base", from_debian), ("nltk.download", from_nltk)):
        if step():
            print(f"WordNet: installed into {WN_DIR} from {how}")
            return 0
    print(
        "WordNet: NOT installed (optional; only the wordnet_sim metric needs it). Fix: as root on "
        "Debian/Ubuntu run `apt-get install wordnet-base` and re-run `python tools/install_wordnet.py`, "
        "or, online, `python -m nltk.downloader -d .nltk_data wordnet`, or set WQRM_NLTK_DATA to a "
        "directory holding corpora/wordnet.",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
