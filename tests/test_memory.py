"""wqrm.memory: freed heap pages go back to the operating system between batches."""

import platform
import sys

import pytest

from wqrm.memory import _malloc_trim, release_freed_memory


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="utf-8") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc's malloc_trim"
)
def test_freed_small_objects_are_returned_on_glibc():
    assert _malloc_trim() is not None
    # 200 MB in 2 KB blocks (above pymalloc's 512 bytes: glibc's heap), one in a hundred kept
    # alive, so the heap cannot shrink from its top and only malloc_trim returns the pages between
    keep, junk = [], []
    for i in range(100_000):
        (keep if i % 100 == 0 else junk).append(bytearray(2000))
    del junk
    before = _rss_kb()
    release_freed_memory()
    assert _rss_kb() < before - 50_000  # at least 50 MB of the ~200 MB freed came back
    assert len(keep) == 1_000


def test_release_is_safe_to_call_anywhere():
    assert isinstance(release_freed_memory(), bool)
    assert isinstance(release_freed_memory(), bool)  # twice in a row: nothing left to return
