"""Rewrite tests/data/seed_fingerprints.txt from the seed texts (../shared/seeds/*.txt).

Run from the project root: ``python tools/seed_fingerprints.py [SEEDS_DIR]``. The file holds
hashes only (see outcomes._dev.paraphrase), so the tests can check for copied sentences on machines
where the seed texts are not present.
"""

from __future__ import annotations

import sys
from pathlib import Path

from outcomes._dev.paraphrase import SHINGLE_WORDS, fingerprints

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "tests" / "data" / "seed_fingerprints.txt"
HEADER = (
    f"# sha256[:16] of every {SHINGLE_WORDS}-word run of the seed texts "
    "(outcomes._dev.paraphrase); regenerate with tools/seed_fingerprints.py\n"
)


def render(seeds: Path) -> str:
    texts = [p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))]
    if not texts:
        raise SystemExit(f"no seed texts (*.txt) in {seeds}")
    return HEADER + "".join(f"{f}\n" for f in sorted(fingerprints(texts)))


def main(argv: list[str]) -> int:
    seeds = Path(argv[0]) if argv else ROOT.parent / "shared" / "seeds"
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(render(seeds), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
