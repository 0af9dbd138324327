import pytest

from wqrm.textio import InvalidTextError, decode_bytes, read_text, validate_text


def test_utf8_and_bom():
    assert decode_bytes("héllo".encode()) == "héllo"
    assert decode_bytes(b"\xef\xbb\xbfhi") == "hi"


def test_non_utf8_names_byte_and_fix():
    with pytest.raises(InvalidTextError, match=r"byte 0xe9 at offset 1.*--encoding"):
        decode_bytes("café".encode("latin-1")[2:] + b"", name="x")  # 'f\xe9'
    assert decode_bytes("café".encode("latin-1"), encoding="latin-1") == "café"


def test_binary_refused():
    with pytest.raises(InvalidTextError, match="binary"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", name="img.png")


def test_unknown_encoding():
    with pytest.raises(InvalidTextError, match="unknown encoding"):
        decode_bytes(b"abc", encoding="no-such-codec")


def test_validate_limits():
    with pytest.raises(InvalidTextError, match="empty"):
        validate_text(" \n ")
    with pytest.raises(InvalidTextError, match="too large"):
        validate_text("abc " * 10, max_chars=10)
    assert validate_text("ok") == "ok"


def test_read_text_errors(tmp_path):
    with pytest.raises(InvalidTextError, match="no such file"):
        read_text(tmp_path / "missing.txt")
    with pytest.raises(InvalidTextError, match="directory"):
        read_text(tmp_path)
    f = tmp_path / "a.txt"
    f.write_text("Fine text.", encoding="utf-8")
    assert read_text(f) == "Fine text."
