"""Reading captions out of answers, and the prompt."""

from __future__ import annotations

import pytest
from voxcore_llava import PAPER_PROMPT, LlavaCaptionerConfig, render_prompt
from voxcore_llava.parsing import parse_captions
from voxcore_llava.prompt import count_in_words

THREE = ["A red ball lies on the grass.", "Two people walk along a quiet street.",
         "A dog sits beside a blue car."]


@pytest.mark.parametrize("answer", [
    # numbered, in every punctuation
    "1. A red ball lies on the grass.\n2. Two people walk along a quiet street.\n"
    "3. A dog sits beside a blue car.",
    "1) A red ball lies on the grass.\n2) Two people walk along a quiet street.\n"
    "3) A dog sits beside a blue car.",
    "(1) A red ball lies on the grass.\n(2) Two people walk along a quiet street.\n"
    "(3) A dog sits beside a blue car.",
    "1: A red ball lies on the grass.\n2: Two people walk along a quiet street.\n"
    "3: A dog sits beside a blue car.",
    # numbered, bold, with a preamble, blank lines and a closing remark
    "Here are three disjoint captions for the given image:\n\n"
    "**1.** A red ball lies on the grass.\n\n**2.** Two people walk along a quiet street.\n\n"
    "**3.** A dog sits beside a blue car.\n\nEach caption focuses on a different aspect.",
    "**1. A red ball lies on the grass.**\n**2. Two people walk along a quiet street.**\n"
    "**3. A dog sits beside a blue car.**",
    # bullets
    "- A red ball lies on the grass.\n- Two people walk along a quiet street.\n"
    "- A dog sits beside a blue car.",
    "* A red ball lies on the grass.\n• Two people walk along a quiet street.\n"
    "– A dog sits beside a blue car.",
    # caption labels, on the line or above it
    "Caption 1: A red ball lies on the grass.\nCaption 2: Two people walk along a quiet "
    "street.\nCaption 3: A dog sits beside a blue car.",
    "**Caption 1:** A red ball lies on the grass.\n**Caption 2**: Two people walk along a "
    "quiet street.\n**Caption #3** - A dog sits beside a blue car.",
    "Caption one: A red ball lies on the grass.\nCaption two: Two people walk along a quiet "
    "street.\nCaption three: A dog sits beside a blue car.",
    "First caption: A red ball lies on the grass.\nSecond caption: Two people walk along a "
    "quiet street.\nThird caption: A dog sits beside a blue car.",
    "### Caption 1\nA red ball lies on the grass.\n### Caption 2\nTwo people walk along a "
    "quiet street.\n### Caption 3\nA dog sits beside a blue car.",
    # quoted
    '"A red ball lies on the grass."\n"Two people walk along a quiet street".\n'
    "“A dog sits beside a blue car.”",
    "1. \"A red ball lies on the grass.\"\n2. 'Two people walk along a quiet street.'\n"
    "3. «A dog sits beside a blue car.»",
    # plain lines, a paragraph, inline numbers
    "A red ball lies on the grass.\nTwo people walk along a quiet street.\n"
    "A dog sits beside a blue car.",
    "Sure! Here are the captions:\nA red ball lies on the grass.\n"
    "Two people walk along a quiet street.\nA dog sits beside a blue car.",
    "A red ball lies on the grass. Two people walk along a quiet street. "
    "A dog sits beside a blue car.",
    "1. A red ball lies on the grass. 2. Two people walk along a quiet street. "
    "3. A dog sits beside a blue car.",
    "Captions: 1. A red ball lies on the grass. 2. Two people walk along a quiet street. "
    "3. A dog sits beside a blue car.",
    # labels the prompt's aspects invite, before or after
    "1. **Objects:** A red ball lies on the grass.\n"
    "2. **Actions**: Two people walk along a quiet street.\n"
    "3. Spatial relationships: A dog sits beside a blue car.",
    "1. A red ball lies on the grass. (8 words)\n2. Two people walk along a quiet street. "
    "(Actions)\n3. A dog sits beside a blue car. [spatial relationships]",
    "- A red ball lies on the grass. (Focus on objects)\n"
    "- Two people walk along a quiet street. - actions\n"
    "- A dog sits beside a blue car. (Word count: 7)",
    # code fences, rules, Windows line ends, odd spacing
    "```\n1.   A red ball   lies on the grass.\r\n---\n2. Two people walk along a quiet "
    "street.\r\n3.\tA dog sits beside a blue car.\n```",
])
def test_layouts_give_the_bare_captions(answer: str) -> None:
    assert parse_captions(answer) == THREE


@pytest.mark.parametrize(("answer", "expected"), [
    ("1) A bus is 1.5 meters tall.", ["A bus is 1.5 meters tall."]),
    ("- A sign reads: stop here.", ["A sign reads: stop here."]),
    ("- A man - in a grey hat - waves.", ["A man - in a grey hat - waves."]),
    ("- A café sign says \"open\" in red letters.",
     ["A café sign says \"open\" in red letters."]),
    ("- The dog's ball is red (a tennis ball).", ["The dog's ball is red (a tennis ball)."]),
    ("- 3 boats float on the lake.", ["3 boats float on the lake."]),
    ('- "Two" and "three" are painted on the wall.',
     ['"Two" and "three" are painted on the wall.']),
    ("- *A red ball* lies on the grass.", ["*A red ball* lies on the grass."]),
])
def test_captions_keep_their_own_punctuation_and_words(answer: str,
                                                       expected: list[str]) -> None:
    assert parse_captions(answer) == expected


def test_only_marked_lines_count_when_there_are_any() -> None:
    answer = ("Sure.\n1. A red ball lies on the grass.\nThis one is about objects.\n"
              "2. Two people walk along a quiet street.")
    assert parse_captions(answer) == THREE[:2]


def test_nothing_to_read() -> None:
    assert parse_captions("") == []
    assert parse_captions("\n \n") == []
    assert parse_captions("Here are three captions for the image:") == []
    assert parse_captions("1.\n2. ***\n- \"\"") == []


def test_too_many_and_repeated_captions_are_left_to_the_caller() -> None:
    answer = "1. A cat.\n2. A cat.\n3. A dog.\n4. A bird."
    assert parse_captions(answer) == ["A cat.", "A cat.", "A dog.", "A bird."]


def test_one_paragraph_is_one_caption_when_one_is_asked_for() -> None:
    answer = "A red ball lies on the grass. It is round."
    assert parse_captions(answer, expected=1) == [answer]
    assert parse_captions(answer) == ["A red ball lies on the grass.", "It is round."]


def test_a_truncated_answer_gives_what_it_has() -> None:
    answer = "1. A red ball lies on the grass.\n2. Two people walk along"
    assert parse_captions(answer) == ["A red ball lies on the grass.", "Two people walk along"]


def test_the_default_prompt_is_the_papers() -> None:
    prompt = render_prompt(LlavaCaptionerConfig().prompt, 3)
    assert prompt == (
        "Generate three disjoint captions for the given image. Each caption should:\n"
        "* Have a different sentence structure,\n"
        "* Avoid emotional or subjective expressions,\n"
        "* Describe different aspects of the image, such as objects, actions, spatial "
        "relationships, or surroundings,\n"
        "* Be between 8 and 15 words long,")


def test_the_prompt_asks_for_the_count() -> None:
    assert render_prompt(PAPER_PROMPT, 5).startswith("Generate five disjoint captions")
    assert render_prompt(PAPER_PROMPT, 12).startswith("Generate 12 disjoint captions")
    assert render_prompt("Write {count} lines; keep {braces}.", 2) == \
        "Write two lines; keep {braces}."
    assert render_prompt("No number here.", 4) == "No number here."
    assert [count_in_words(n) for n in (1, 10, 11)] == ["one", "ten", "11"]
    with pytest.raises(ValueError):
        count_in_words(-1)
