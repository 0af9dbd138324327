"""Terminal rendering: spans for people."""

from wqrm.cli.render import display_spans


def test_display_spans_widen_to_words_and_merge_neighbours():
    text = "The lighthouse keeper, tired, slept. Gulls cried."
    spans = [
        {"start": 6, "end": 9, "label": "Cliche", "probability": 0.6},  # inside "lighthouse"
        {"start": 15, "end": 21, "label": "Purple Prose", "probability": 0.8},  # "keeper"
        {"start": 23, "end": 28, "label": "Cliche", "probability": 0.7},  # "tired" after ", "
        {"start": 37, "end": 40, "label": "Cliche", "probability": 0.5},  # inside "Gulls"
    ]
    shown = display_spans(text, spans)
    assert [text[s["start"] : s["end"]] for s in shown] == ["lighthouse keeper, tired,", "Gulls"]
    assert shown[0]["label"] == "Cliche"  # label of the longest piece ("lighthouse")
    assert shown[1]["probability"] == 0.5
