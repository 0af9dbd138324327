import pytest
from wqrm.metrics.aesthetics import w2

import wqrm


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I saw three owls.", (1 + 3 + 5 + 4) / 4),
        ("Owls!", 4.0),
        ("Tea, then sleep.\n\nMore tea.", (3 + 4 + 5 + 4 + 3) / 5),  # word-weighted over paragraphs
    ],
)
def test_w2_golden(text, expected):
    assert w2(wqrm.analyze(text)) == pytest.approx(expected, abs=1e-12)
