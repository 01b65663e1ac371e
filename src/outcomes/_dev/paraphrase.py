"""Check that project text paraphrases the seed texts instead of copying them.

The seed texts are not redistributed with the project, so the check works on *fingerprints*:
a short hash of every run of :data:`SHINGLE_WORDS` consecutive words of the seeds, stored in
``tests/data/seed_fingerprints.txt`` (``python tools/seed_fingerprints.py`` rewrites it from
``../shared/seeds``). A run of that many words shared with a seed is copying, not paraphrase.
Section titles cited in a ``source`` (``seed:001 §Title``) are references, not prose, and are
left out of the check.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

#: Words in a run that counts as copied.
SHINGLE_WORDS = 10
_WORD = re.compile(r"[A-Za-z0-9']+")
# A cited section title runs from the section sign to the end of the quoted source string.
_SECTION_REFERENCE = re.compile(r"§[^\"\n]*")


def shingles(text: str, size: int = SHINGLE_WORDS) -> list[str]:
    """Every run of ``size`` consecutive words, lower-cased, punctuation ignored.

    Examples
    --------
    >>> shingles("One, two. Three four!", size=3)
    ['one two three', 'two three four']
    """
    words = [w.lower() for w in _WORD.findall(text)]
    return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]


def fingerprint(shingle: str) -> str:
    """A 16-hex-digit hash of a shingle (the seed text itself is never stored).

    Examples
    --------
    >>> len(fingerprint("one two three"))
    16
    """
    return hashlib.sha256(shingle.encode("utf-8")).hexdigest()[:16]


def fingerprints(texts: Iterable[str], size: int = SHINGLE_WORDS) -> set[str]:
    """Fingerprints of every shingle of every text.

    Examples
    --------
    >>> len(fingerprints(["a b c d", "c d e"], size=2))
    4
    """
    return {fingerprint(s) for text in texts for s in shingles(text, size)}


def copied_phrases(text: str, known: set[str], size: int = SHINGLE_WORDS) -> list[str]:
    """The runs of ``text`` whose fingerprint is in ``known``, cited section titles excluded.

    Examples
    --------
    >>> seed = "the quick brown fox jumps over the lazy dog"
    >>> copied_phrases("he saw the quick brown fox jump", fingerprints([seed], 3), 3)
    ['the quick brown', 'quick brown fox']
    >>> copied_phrases('source = "seed:000 §The Quick Brown Fox"', fingerprints([seed], 3), 3)
    []
    """
    prose = _SECTION_REFERENCE.sub(" ", text)
    return [s for s in shingles(prose, size) if fingerprint(s) in known]
