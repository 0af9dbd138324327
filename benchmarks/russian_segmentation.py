"""Sentence and word boundaries of the Russian pipeline on 20 hand-written tricky sentences.

Abbreviations (г., т. е., т. д., руб., см., рис., ул., проф.), initials (А. С. Пушкин), dialogue
dashes (—, and the ASCII "--" of older e-texts), «ёлочки», ellipses inside quotes, ?! and ?..,
decimal commas, hyphenated words and surnames, Roman numerals. The gold segmentation is written by
hand: every sentence of `PARAGRAPHS` is one gold sentence, and its gold words are the
non-punctuation tokens (abbreviation periods are punctuation, so "т. е." gives the words т, е).

    python benchmarks/russian_segmentation.py      # prints each error and the counts

Errors: a gold sentence start the pipeline misses or a start it adds (sentence errors); words
not aligned with the gold words by `difflib` (a gold word missed plus a word added: word errors).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

__all__ = ["PARAGRAPHS", "evaluate"]

#: Paragraphs as lists of (gold sentence, its gold words). 20 sentences in all.
PARAGRAPHS: list[list[tuple[str, list[str]]]] = [
    [
        ("«Ты куда?» — спросила она.", ["Ты", "куда", "спросила", "она"]),
        ("— Домой, — ответил он, — уже поздно.", ["Домой", "ответил", "он", "уже", "поздно"]),
        (
            "А. С. Пушкин родился в 1799 г. в Москве.",
            ["А", "С", "Пушкин", "родился", "в", "1799", "г", "в", "Москве"],
        ),
        (
            "Встреча назначена на 10 ч. 30 мин., т. е. через час.",
            ["Встреча", "назначена", "на", "10", "ч", "30", "мин", "т", "е", "через", "час"],
        ),
        (
            "В кабинете стояли столы, стулья, шкафы и т. д.",
            ["В", "кабинете", "стояли", "столы", "стулья", "шкафы", "и", "т", "д"],
        ),
    ],
    [
        (
            "Проф. Иванов прочёл лекцию о Л. Н. Толстом.",
            ["Проф", "Иванов", "прочёл", "лекцию", "о", "Л", "Н", "Толстом"],
        ),
        (
            "Он купил 2,5 кг яблок за 150 руб. на рынке.",
            ["Он", "купил", "2,5", "кг", "яблок", "за", "150", "руб", "на", "рынке"],
        ),
        ("Что-то случилось?!", ["Что-то", "случилось"]),
        (
            "«Нет... не может быть...» — прошептал Гуров.",
            ["Нет", "не", "может", "быть", "прошептал", "Гуров"],
        ),
        (
            "Это было в 1990-х гг., когда всё менялось.",
            ["Это", "было", "в", "1990-х", "гг", "когда", "всё", "менялось"],
        ),
    ],
    [
        ("-- Кто там? -- спросил Николай Петрович.", ["Кто", "там", "спросил", "Николай", "Петрович"]),
        (
            "Она читала «Анну Каренину» и «Отцов и детей».",
            ["Она", "читала", "Анну", "Каренину", "и", "Отцов", "и", "детей"],
        ),
        ("См. рис. 3 на с. 45.", ["См", "рис", "3", "на", "с", "45"]),
        (
            "Ему было лет сорок; он служил в банке.",
            ["Ему", "было", "лет", "сорок", "он", "служил", "в", "банке"],
        ),
        ("Он сказал: «Завтра уеду».", ["Он", "сказал", "Завтра", "уеду"]),
    ],
    [
        ("Ул. Ленина, д. 5, кв. 12 — вот адрес.", ["Ул", "Ленина", "д", "5", "кв", "12", "вот", "адрес"]),
        ("Пришёл И. И. Петров-Водкин, художник.", ["Пришёл", "И", "И", "Петров-Водкин", "художник"]),
        ("«Куда же вы?..» — крикнула Анна.", ["Куда", "же", "вы", "крикнула", "Анна"]),
        ("В XIX в. так писали все.", ["В", "XIX", "в", "так", "писали", "все"]),
        ("Конец.", ["Конец"]),
    ],
]


def evaluate(analyze: Callable[[str], Any]) -> dict[str, Any]:
    """Count sentence and word errors of `analyze` (text → `wqrm.Analysis`) on `PARAGRAPHS`."""
    sentence_errors = word_errors = 0
    n_sentences = n_words = 0
    details: list[str] = []
    for para in PARAGRAPHS:
        text = " ".join(s for s, _ in para)
        gold_starts = set()
        pos = 0
        for s, _ in para:
            gold_starts.add(text.index(s, pos))
            pos = text.index(s, pos) + len(s)
        a = analyze(text)
        pred_starts = {s.start_char for s in a.sentences}
        for start in sorted(gold_starts - pred_starts):
            details.append(f"missed sentence start: …{text[max(0, start - 15) : start + 15]!r}")
        for start in sorted(pred_starts - gold_starts):
            details.append(f"spurious sentence start: …{text[max(0, start - 15) : start + 15]!r}")
        sentence_errors += len(gold_starts ^ pred_starts)
        gold_words = [w for _, ws in para for w in ws]
        pred_words = [t.text for t in a.word_tokens]
        matcher = difflib.SequenceMatcher(a=gold_words, b=pred_words, autojunk=False)
        matched = sum(b.size for b in matcher.get_matching_blocks())
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                details.append(f"words {tag}: gold {gold_words[i1:i2]} vs {pred_words[j1:j2]}")
        word_errors += (len(gold_words) - matched) + (len(pred_words) - matched)
        n_sentences += len(para)
        n_words += len(gold_words)
    return {
        "sentences": n_sentences,
        "words": n_words,
        "sentence_errors": sentence_errors,
        "word_errors": word_errors,
        "details": details,
    }


if __name__ == "__main__":
    import wqrm

    result = evaluate(lambda text: wqrm.analyze(text, lang="ru"))
    for line in result["details"]:
        print(line)
    print(
        f"{result['sentences']} sentences, {result['words']} words: "
        f"{result['sentence_errors']} sentence-boundary errors, {result['word_errors']} word errors"
    )
