"""Plausible running text from the fixed vocabulary, deterministic for a seed.

Words are drawn with Zipf-like frequencies (function words most, then a long tail of
content words), so full-text search sees a realistic mix of common and rare terms.
Bodies are assembled from a pool of sentences built once per generation: drawing whole
sentences keeps generating a million 1-3 KB bodies fast.
"""

from __future__ import annotations

import random
from itertools import accumulate

from app.generate.vocabulary import CONTENT_WORDS, FUNCTION_WORDS, PLACES, THEMES

# A word of the vocabulary that occurs in most generated texts (the benchmark searches it).
COMMON_WORD = CONTENT_WORDS[0]
_CONTENT_EXPONENT = 0.5  # content word i weighs 1 / sqrt(i + 1): a long, fat tail


class TextMaker:
    """Sentences, paragraphs and HTML bodies drawn from a seeded sentence pool."""

    def __init__(self, rng: random.Random, pool_size: int = 6000) -> None:
        self.rng = rng
        self._function = (list(FUNCTION_WORDS), list(accumulate(FUNCTION_WORDS.values())))
        content_weights = (1 / (i + 1) ** _CONTENT_EXPONENT for i in range(len(CONTENT_WORDS)))
        self._content = (list(CONTENT_WORDS), list(accumulate(content_weights)))
        self.pool = [self._sentence() for _ in range(pool_size)]

    def _sentence(self) -> str:
        """Content words joined by one or two function words ("security of the region")."""
        rng = self.rng
        count = rng.randint(5, 12)
        content = rng.choices(self._content[0], cum_weights=self._content[1], k=count)
        glue = rng.choices(self._function[0], cum_weights=self._function[1], k=2 * count)
        comma = rng.randrange(1, count - 1) if rng.random() < 0.3 else -1
        words = [content[0]]
        for k in range(1, count):
            words.append(glue[2 * k])
            if rng.random() < 0.3 and glue[2 * k + 1] != glue[2 * k]:
                words.append(glue[2 * k + 1])
            words.append(content[k] + ("," if k == comma else ""))
        if rng.random() < 0.25:
            words += ["in", rng.choice(PLACES)]
        elif rng.random() < 0.15:
            words += ["on", rng.choice(THEMES).lower()]
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def sentences(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(self.pool, k=self.rng.randint(low, high)))

    def body(self, low_chars: int, high_chars: int, heading: str | None = None) -> tuple[str, str]:
        """(sanitized HTML, its plain-text rendering) of roughly low-high characters.

        The HTML is what `sanitize_html` returns unchanged and the text is exactly what
        `html_to_text` derives from it, as if the body had been written through the API.
        """
        target = self.rng.randint(low_chars, high_chars)
        blocks: list[tuple[str, str]] = []
        size = 0
        while size < target:
            if heading is not None and len(blocks) == 2:
                blocks.append(("h2", heading))
                size += len(heading)
            paragraph = self.sentences(2, 6)
            blocks.append(("p", paragraph))
            size += len(paragraph)
        html = "\n".join(f"<{tag}>{text}</{tag}>" for tag, text in blocks)
        return html, "\n\n".join(text for _, text in blocks)

    def paragraph_html(self, first: str, low: int, high: int) -> tuple[str, str]:
        """One paragraph starting with `first` (a bio, a short description)."""
        text = f"{first} {self.sentences(low, high)}"
        return f"<p>{text}</p>", text
