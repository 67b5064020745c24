"""Captions out of a model's free-text answer.

Asked for several captions, instruction-tuned models answer in a handful of layouts: a
numbered list ("1. ...", "1) ...", "(1) ..."), bullets ("- ...", "* ...", "• ..."), labelled
lines ("Caption 1: ...", "**Caption 2:** ...", a label on a line of its own above its caption),
quoted sentences, plain lines, or one paragraph, often after a preamble ("Here are three
captions:") and with labels they were not asked for ("**Objects:** ...", "... (12 words)").
:func:`parse_captions` reads all of these and returns the bare captions.

When any line carries a list marker or a caption label, only such lines are captions, so a
preamble or a closing remark is never taken for one. Otherwise every line is a caption except
those that introduce a list (ending in ':') or talk about captions; a single paragraph of
several sentences is split into its sentences.
"""

from __future__ import annotations

import re

__all__ = ["ASPECT_LABELS", "parse_captions"]

#: Labels of the aspects the paper's prompt names (and their usual variants), which models
#: put before or after a caption; they are dropped there.
ASPECT_LABELS = frozenset({
    "object", "objects", "action", "actions", "activity", "activities", "spatial relationship",
    "spatial relationships", "spatial", "surrounding", "surroundings", "setting", "scene",
    "background", "foreground", "environment", "location", "composition", "colors", "colours",
    "color", "colour", "people", "subject", "subjects", "details", "detail", "overview",
    "context", "layout", "arrangement", "position", "positions",
})

_NUMBER_WORDS = r"one|two|three|four|five|six|seven|eight|nine|ten"
_ORDINALS = r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
_BOLD = r"(?:\*\*|__)?"

#: A list marker at the start of a line: "1.", "1)", "1:", "(1)", "#1", or a bullet.
_MARKER = re.compile(
    rf"^{_BOLD}(?:\(?\d{{1,2}}\s*[.):]|\#\d{{1,2}}[.):]?|[-*•·–—+])(?=\s|\*\*|__|$)\s*{_BOLD}\s*")
#: A caption label: "Caption 1:", "Caption #2 -", "Caption three:", "First caption:".
_LABEL = re.compile(
    rf"^{_BOLD}(?:#+\s*)?(?:(?:caption|description)\s*(?:\#?\d{{1,2}}|{_NUMBER_WORDS})?"
    rf"|(?:{_ORDINALS})\s+(?:caption|description))\s*{_BOLD}\s*(?:[:.)\-–—]|$)\s*{_BOLD}\s*",
    re.IGNORECASE)
#: A label before the caption: "**Objects:**", "**Spatial relationships**:", "Setting:".
_LEADING_LABEL = re.compile(r"^(\*\*|__)?([A-Za-z][A-Za-z &/-]{0,40}?)\s*(\*\*|__)?\s*:\s*"
                            r"(\*\*|__)?\s*")
#: A label after the caption: "(12 words)", "[Objects]", "- spatial relationships".
_TRAILING_LABEL = re.compile(r"\s*(?:[(\[]([^()\[\]]{1,40})[)\]]|[-–—]\s+([A-Za-z ]{1,40}))"
                             r"\s*([.!?]?)\s*$")
_WORD_COUNT = re.compile(r"^(?:word count\s*[:=]?\s*)?\d{1,2}\s*(?:words?)?$", re.IGNORECASE)
_FOCUS = re.compile(r"^(?:focus(?:es|ing)?\s+on|aspect\s*:?)\s+", re.IGNORECASE)
#: Inline numbering, to split "1. A dog runs. 2. A cat sleeps." into its items.
_INLINE_NUMBER = re.compile(r"(?:^|(?<=\s))\(?(\d{1,2})[.)]\s+")
_QUOTES = "\"'“”‘’«»„"
_QUOTED = re.compile(rf"^[{_QUOTES}]([^\"“”«»„]+)[{_QUOTES}]\s*([.!?]?)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“'‘]?[A-Z0-9])")
_MENTIONS_CAPTIONS = re.compile(r"\bcaptions?\b", re.IGNORECASE)


def parse_captions(answer: str, *, expected: int | None = None) -> list[str]:
    """The captions in ``answer``, in order, without numbering, bullets, labels or quotes.

    ``expected`` is how many captions were asked for: when it is 1, a single paragraph is one
    caption rather than one caption per sentence. Nothing is dropped for being too many, too
    short or repeated: checking the captions is the caller's job.
    """
    pieces = [piece for line in _lines(answer) for piece in _split_inline_numbering(line)]
    marked: list[str] = []
    plain: list[str] = []
    awaiting_caption = False  # a label stood alone on its line: the next line is its caption
    for piece in pieces:
        text, is_marked = _strip_marker(piece)
        if is_marked and not _clean(text):
            awaiting_caption = True
            continue
        if is_marked or awaiting_caption:
            marked.append(text)
        else:
            plain.append(text)
        awaiting_caption = False
    if marked:
        return [caption for caption in map(_clean, marked) if caption]
    captions = [caption for text in plain if not _introduces(text)
                for caption in [_clean(text)] if caption]
    if len(captions) == 1 and expected != 1:
        captions = [caption for sentence in _SENTENCE_END.split(captions[0])
                    for caption in [_clean(sentence)] if caption]
    return captions


def _lines(answer: str) -> list[str]:
    """Non-empty lines, code fences and horizontal rules dropped."""
    lines = (line.strip() for line in answer.replace("\r", "\n").split("\n"))
    return [line for line in lines if line and not re.fullmatch(r"`{3,}\w*|[-*_=]{3,}", line)]


def _split_inline_numbering(line: str) -> list[str]:
    """``line`` cut before each item of a run of inline numbers 1, 2, 3, ... (at least two);
    other lines unchanged."""
    starts: list[int] = []
    for match in _INLINE_NUMBER.finditer(line):
        if int(match.group(1)) == len(starts) + 1:
            starts.append(match.start())
    if len(starts) < 2:
        return [line]
    bounds = [*starts, len(line)]
    head = [line[: starts[0]]] if line[: starts[0]].strip() else []
    return head + [line[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False)]


def _strip_marker(piece: str) -> tuple[str, bool]:
    """``piece`` without its list marker and caption label, and whether it had either."""
    text = piece
    marked = False
    for pattern in (_MARKER, _LABEL):
        match = pattern.match(text)
        if match and match.end() > 0:
            text, marked = text[match.end():], True
    return text, marked


def _introduces(text: str) -> bool:
    """Whether an unmarked line introduces or comments on the captions, not one itself."""
    stripped = text.strip().strip("*_ ")
    return stripped.endswith(":") or bool(_MENTIONS_CAPTIONS.search(stripped))


def _clean(text: str) -> str:
    """A caption without labels, emphasis or wrapping quotes, its spaces normalised."""
    text = " ".join(text.split())
    previous = None
    while text != previous:
        previous = text
        text = _strip_leading_label(text)
        text = _strip_trailing_label(text)
        text = _unwrap(text)
    return text if any(ch.isalnum() for ch in text) else ""


def _strip_leading_label(text: str) -> str:
    match = _LEADING_LABEL.match(text)
    if not match or match.end() >= len(text):
        return text
    bold = bool(match.group(1) or match.group(3))
    label = match.group(2).strip().lower()
    return text[match.end():] if bold or label in ASPECT_LABELS else text


def _strip_trailing_label(text: str) -> str:
    match = _TRAILING_LABEL.search(text)
    if not match or match.start() == 0:
        return text
    label = (match.group(1) or match.group(2) or "").strip().strip("*_").strip()
    label = _FOCUS.sub("", label).lower()
    if _WORD_COUNT.match(label) or label in ASPECT_LABELS:
        return text[: match.start()] + match.group(3)
    return text


def _unwrap(text: str) -> str:
    """``text`` without markdown emphasis or quotes around all of it."""
    text = text.strip()
    for mark in ("**", "__"):
        if text.count(mark) % 2:  # the other half went with a marker or label
            text = text.removeprefix(mark).removesuffix(mark).strip()
    for mark in ("**", "__", "*", "_"):
        if len(text) > 2 * len(mark) and text.startswith(mark) and text.rstrip(".!?").endswith(
                mark):
            body = text.rstrip(".!?")
            text = body[len(mark): -len(mark)].strip() + text[len(body):]
    match = _QUOTED.match(text)
    if match:
        body, after = match.group(1).strip(), match.group(2)
        text = body if not after or body.endswith((".", "!", "?")) else body + after
    return text.strip()
