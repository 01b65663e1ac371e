"""Rewrite tests/data/seed_sections.txt: the section headings of the seed texts.

Run from the project root: ``python tools/seed_sections.py [SEEDS_DIR]`` (default
``../shared/seeds``). Knowledge sources cite a seed text by its number and a section heading
(``seed:001 §What Causes a Pinched Nerve?``); the stored list lets the tests check those
headings on machines where the seed texts are not present.

A heading is a line of at most 25 words, in title case, that does not end like a sentence
(``.``, ``,``, ``;`` or ``:``) and is not a bullet point. Its body is the text up to the next
heading; the file records how many words that body has, because a heading with no text under
it cannot support a number on its own. Each output line is ``NNN<TAB>body words<TAB>heading``.

It also rewrites tests/data/seed_section_subjects.txt: for every section, the subjects it
mentions (condition, finding and field names whose words, listed in tests/data/seed_terms.toml,
occur in the heading or the body), ``NNN<TAB>heading<TAB>subject,subject,...``. A number cited
directly to a section must be about subjects the section mentions (tests/test_knowledge.py).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "tests" / "data" / "seed_sections.txt"
SUBJECTS = ROOT / "tests" / "data" / "seed_section_subjects.txt"
TERMS = ROOT / "tests" / "data" / "seed_terms.toml"
HEADER = (
    "# seed<TAB>words of text under the heading<TAB>section heading, for every heading of the "
    "seed texts; regenerate with tools/seed_sections.py\n"
)
SUBJECTS_HEADER = (
    "# seed<TAB>section heading<TAB>subjects the section mentions (words from seed_terms.toml); "
    "regenerate with tools/seed_sections.py\n"
)
MAX_HEADING_WORDS = 25


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


def _words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def bodies(text: str) -> dict[str, str]:
    """Heading -> the text under it (the longest, if a heading repeats)."""
    found: dict[str, str] = {}
    heading, lines = None, []

    def close() -> None:
        if heading is not None:
            body = " ".join(lines)
            if heading not in found or _words(body) > _words(found[heading]):
                found[heading] = body

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if is_heading(line):
            close()
            heading, lines = line, []
        else:
            lines.append(line)
    close()
    return found


def sections(text: str) -> dict[str, int]:
    """Heading -> words of body text under it (the largest, if a heading repeats)."""
    return {heading: _words(body) for heading, body in bodies(text).items()}


def vocabulary(path: Path = TERMS) -> dict[str, list[str]]:
    """Subject -> the words that show a section mentions it (all tables of seed_terms.toml)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {name: terms for table in data.values() for name, terms in table.items()}


def subjects(heading: str, body: str, terms: dict[str, list[str]]) -> list[str]:
    """The subjects whose words occur in a section (lower case, at the start of a word, so
    that "sneez" finds "sneezing" but "arm" does not find "harm")."""
    text = f"{heading} {body}".lower()
    found = lambda word: re.search(rf"\b{re.escape(word)}", text) is not None  # noqa: E731
    return sorted(name for name, words in terms.items() if any(found(w) for w in words))


def _seed_files(seeds: Path) -> list[Path]:
    files = sorted(seeds.glob("[0-9][0-9][0-9]_*.txt"))
    if not files:
        raise SystemExit(f"no seed texts (NNN_*.txt) in {seeds}")
    return files


def _by_section(seeds: Path, parse) -> list[tuple[str, str, object]]:
    """``(seed number, heading, what parse gives for it)`` for every section of every seed
    text, in file and heading order."""
    return [
        (path.name[:3], heading, value)
        for path in _seed_files(seeds)
        for heading, value in sorted(parse(path.read_text(encoding="utf-8")).items())
    ]


def render(seeds: Path) -> str:
    rows = _by_section(seeds, sections)
    return HEADER + "".join(f"{number}\t{words}\t{heading}\n" for number, heading, words in rows)


def render_subjects(seeds: Path, terms_file: Path = TERMS) -> str:
    terms = vocabulary(terms_file)
    rows = _by_section(seeds, bodies)
    return SUBJECTS_HEADER + "".join(
        f"{number}\t{heading}\t{','.join(subjects(heading, body, terms))}\n"
        for number, heading, body in rows
    )


def main(argv: list[str]) -> int:
    seeds = Path(argv[0]) if argv else ROOT.parent / "shared" / "seeds"
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(render(seeds), encoding="utf-8")
    SUBJECTS.write_text(render_subjects(seeds), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} and {SUBJECTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
