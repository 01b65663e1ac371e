"""Rewrite tests/data/seed_sections.txt: the section headings of the seed texts.

Run from the project root: ``python tools/seed_sections.py [SEEDS_DIR]`` (default
``../shared/seeds``). Knowledge sources cite a seed text by its number and a section heading
(``seed:001 §What Causes a Pinched Nerve?``); the stored list lets the tests check those
headings on machines where the seed texts are not present.

A heading is a line of at most 15 words, in title case, that does not end like a sentence
(``.``, ``,``, ``;`` or ``:``) and is not a bullet point. Its body is the text up to the next
heading; the file records how many words that body has, because a heading with no text under
it cannot support a number on its own. Each output line is ``NNN<TAB>body words<TAB>heading``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "tests" / "data" / "seed_sections.txt"
HEADER = (
    "# seed<TAB>words of text under the heading<TAB>section heading, for every heading of the "
    "seed texts; regenerate with tools/seed_sections.py\n"
)
MAX_HEADING_WORDS = 15


def is_heading(line: str) -> bool:
    """Whether a stripped line reads as a section heading rather than prose.

    Besides being short and unpunctuated, a heading is written in title case: most of its
    words of four letters or more start with a capital (which tells "What Causes a Pinched
    Nerve?" from a sentence broken off before a list).
    """
    words = line.split()
    long_words = [w for w in words if len(w) >= 4]
    capitalised = sum(w[0].isupper() for w in long_words)
    return (
        0 < len(words) <= MAX_HEADING_WORDS
        and not line.endswith((".", ",", ";", ":"))
        and not line.startswith(("•", "-", "*"))
        and (not long_words or 2 * capitalised > len(long_words))
    )


def sections(text: str) -> dict[str, int]:
    """Heading -> words of body text under it (the largest, if a heading repeats)."""
    found: dict[str, int] = {}
    heading, words = None, 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if is_heading(line):
            if heading is not None:
                found[heading] = max(found.get(heading, 0), words)
            heading, words = line, 0
        else:
            words += len(re.findall(r"\S+", line))
    if heading is not None:
        found[heading] = max(found.get(heading, 0), words)
    return found


def render(seeds: Path) -> str:
    lines = []
    files = sorted(seeds.glob("[0-9][0-9][0-9]_*.txt"))
    if not files:
        raise SystemExit(f"no seed texts (NNN_*.txt) in {seeds}")
    for path in files:
        number = path.name[:3]
        for heading, words in sorted(sections(path.read_text(encoding="utf-8")).items()):
            lines.append(f"{number}\t{words}\t{heading}\n")
    return HEADER + "".join(lines)


def main(argv: list[str]) -> int:
    seeds = Path(argv[0]) if argv else ROOT.parent / "shared" / "seeds"
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(render(seeds), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
