"""Feedback on long runs: a bar on a terminal, plain periodic lines otherwise, nothing when off."""

from __future__ import annotations

import io

from wqrm.cli.common import Feedback, progress_mode


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_mode_follows_the_flag_and_the_stream():
    assert progress_mode(False, Tty()) == "off"
    assert progress_mode(None, Tty()) == "bar"
    assert progress_mode(True, Tty()) == "bar"
    assert progress_mode(None, io.StringIO()) == "lines"
    assert progress_mode(True, io.StringIO()) == "lines"


def test_plain_lines_every_interval_and_a_last_line():
    stream, clock = io.StringIO(), Clock()
    with Feedback("scoring", 66, "lines", interval=10, stream=stream, clock=clock) as fb:
        for _ in range(66):
            clock.t += 1  # one text per second
            fb.advance(1)
    lines = stream.getvalue().splitlines(keepends=True)
    assert "\r" not in stream.getvalue() and all(line.endswith("\n") for line in lines)
    assert [line.split(":")[1].split()[0] for line in lines] == [
        "10/66",
        "20/66",
        "30/66",
        "40/66",
        "50/66",
        "60/66",
        "66/66",
    ]
    assert lines[0] == "scoring: 10/66 texts (15%), 10 s, ~56 s left\n"
    assert lines[-1] == "scoring done: 66/66 texts (100%), 66 s\n"


def test_a_short_run_stays_silent_unless_asked():
    stream, clock = io.StringIO(), Clock()
    with Feedback("scoring", 3, "lines", interval=10, stream=stream, clock=clock) as fb:
        fb.advance(3)
    assert stream.getvalue() == ""
    with Feedback("scoring", 3, "lines", interval=10, always_end=True, stream=stream, clock=clock) as fb:
        fb.advance(3)
    assert stream.getvalue() == "scoring done: 3/3 texts (100%), 0 s\n"


def test_unknown_total_and_update():
    stream, clock = io.StringIO(), Clock()
    with Feedback("metrics", None, "lines", interval=5, stream=stream, clock=clock) as fb:
        clock.t = 6
        fb.advance(4)
        clock.t = 12
        fb.update(10, 20)
    assert stream.getvalue().splitlines() == [
        "metrics: 4 texts, 6 s",
        "metrics: 10/20 texts (50%), 12 s, ~12 s left",
        "metrics done: 10/20 texts (50%), 12 s",
    ]


def test_off_prints_nothing_and_bar_draws_on_a_terminal():
    stream = io.StringIO()
    with Feedback("scoring", 5, "off", interval=0, stream=stream) as fb:
        fb.advance(5)
    assert stream.getvalue() == ""
    tty = Tty()
    with Feedback("scoring", 5, "bar", stream=tty) as fb:
        fb.advance(5)
    assert "5/5" in tty.getvalue()
