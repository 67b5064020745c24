"""The instruction the captioner gives the model: the paper's prompt, for any number of captions.

The paper (Appendix A) asks LLaVA-OneVision for three captions. :data:`PAPER_PROMPT` is that
prompt word for word, with "three" replaced by the placeholder ``{count}``;
:func:`render_prompt` fills it in with the number asked for, spelled as the paper spells it
("three"; numbers above ten in digits), so ``count: 3`` gives the paper's prompt exactly.
"""

from __future__ import annotations

__all__ = ["COUNT_PLACEHOLDER", "PAPER_PROMPT", "count_in_words", "render_prompt"]

#: Where a prompt template says how many captions to write.
COUNT_PLACEHOLDER = "{count}"

#: The paper's Appendix A prompt (its trailing comma included), ``{count}`` for "three".
PAPER_PROMPT = (
    "Generate {count} disjoint captions for the given image. Each caption should:\n"
    "* Have a different sentence structure,\n"
    "* Avoid emotional or subjective expressions,\n"
    "* Describe different aspects of the image, such as objects, actions, spatial "
    "relationships, or surroundings,\n"
    "* Be between 8 and 15 words long,"
)

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def count_in_words(count: int) -> str:
    """``count`` as an English word up to ten ("three"), in digits above."""
    if count < 0:
        raise ValueError(f"a caption count cannot be negative, got {count}")
    return _WORDS[count] if count < len(_WORDS) else str(count)


def render_prompt(template: str, count: int) -> str:
    """``template`` with every ``{count}`` replaced by ``count`` in words; other braces are
    left as written, and a template without ``{count}`` is returned unchanged."""
    return template.replace(COUNT_PLACEHOLDER, count_in_words(count))
