"""The data card of a generated cohort: how it was made and what every column means.

The card is rendered from the cohort file's own metadata and from the column declaration in
:mod:`outcomes.cohort`, so it cannot disagree with either. ``DEFAULT_COMMAND`` is the command
that made the committed default cohort; a test re-runs it and compares the data.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from outcomes.cohort import patient_columns
from outcomes.io import atomic_path, read_metadata
from outcomes.knowledge import load_knowledge

DEFAULT_COHORT = Path("data/synthetic/default_cohort.parquet")
#: The command that produced the committed default cohort (run from the project root).
DEFAULT_COMMAND = (
    "outcomes generate --n 5000 --seed 20261122 --setting primary_care "
    f"--out {DEFAULT_COHORT.as_posix()}"
)

KNOWN_LIMITS = """\
- Synthetic: every patient is drawn from the model in `src/outcomes/knowledge/*.toml`. Most
  numbers there are assumptions informed by four patient-education texts and a handful of
  published figures (see `references.toml`); the cohort is a test bed for triage methods, not
  an estimate of any real population.
- Findings are independent given the condition, latent severity, chronicity and secondary
  contributor; real findings are correlated in more ways than that.
- Exam findings and red flags are missing completely at random at each setting's rate; in
  real records what is examined depends on what the clinician suspects.
- One setting per generated file; the case mix is the setting's, not a measured one.
- Ages are whole years from a truncated normal per condition; ODI moves in steps of 2.
"""


def render_datacard(
    cohort_path: str | Path,
    command: str = DEFAULT_COMMAND,
    *,
    metadata: Mapping[str, Any] | None = None,
    condition_counts: Mapping[str, int] | None = None,
) -> str:
    """Markdown data card for a cohort file written by ``outcomes generate``.

    ``metadata`` and ``condition_counts`` replace what is otherwise read from the file (a
    partitioned cohort passes them, see :mod:`outcomes.partitioned`, so that nothing reads
    the whole table).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.cohort import write_cohort
    >>> p = write_cohort(pathlib.Path(tempfile.mkdtemp()) / "c.parquet", 100, seed=1)
    >>> render_datacard(p, "outcomes generate --n 100 --seed 1").splitlines()[0]
    '# Data card: c.parquet'
    """
    path = Path(cohort_path)
    meta = read_metadata(path) if metadata is None else dict(metadata)
    if condition_counts is None:
        counts = pd.read_parquet(path, columns=["condition"])["condition"].value_counts()
    else:
        counts = pd.Series(dict(condition_counts), dtype="int64")
    kb = load_knowledge()
    lines = [
        f"# Data card: {path.name}",
        "",
        "Synthetic patients with leg or buttock pain: true sciatica (disc herniation, spinal",
        "stenosis), piriformis syndrome, hamstring tightness, a pinched nerve elsewhere and",
        "serious pathology with red flags. Generated, never edited by hand.",
        "",
        "## How it was made",
        "",
        "```",
        command,
        "```",
        "",
        f"- package version: `{meta.get('version', 'unknown')}`",
        f"- patients: {meta.get('n', int(counts.sum()))}; seed: {meta.get('seed')}; "
        f"setting: `{meta.get('setting')}`; overrides: `{meta.get('overrides', {})}`",
        "- same command and version ⇒ identical data (patient `i` of a seed never changes with",
        "  `--n` or `--chunk-size`)",
        "",
        "## Condition counts",
        "",
        "| condition | pathway | patients |",
        "|---|---|---|",
    ]
    for c in kb.conditions:
        lines.append(f"| {c.name} | {c.pathway} | {int(counts.get(c.name, 0))} |")
    lines += ["", "## Columns", "", "| column | dtype | meaning |", "|---|---|---|"]
    for col in patient_columns(kb):
        meaning = col.meaning
        if col.categories is not None:
            meaning += "; one of: " + ", ".join(f"`{c}`" for c in col.categories)
        lines.append(f"| `{col.name}` | {col.dtype} | {meaning} |")
    lines += [
        "",
        "Columns `condition`, `secondary_condition`, `pathway` and `latent_severity` are the",
        "generator's truth: triage methods must not use them.",
        "",
        "## Known limits",
        "",
        KNOWN_LIMITS,
    ]
    return "\n".join(lines)


def write_datacard(
    cohort_path: str | Path, out: str | Path, command: str = DEFAULT_COMMAND
) -> Path:
    """Render the data card of ``cohort_path`` and write it atomically to ``out``."""
    text = render_datacard(cohort_path, command)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(out)


def command_arguments(command: str = DEFAULT_COMMAND) -> list[str]:
    """The recorded command as CLI arguments (without the leading ``outcomes``).

    Examples
    --------
    >>> command_arguments("outcomes generate --n 5 --seed 1")
    ['generate', '--n', '5', '--seed', '1']
    """
    parts = shlex.split(command)
    if not parts or parts[0] != "outcomes":
        raise ValueError(f"recorded command must start with 'outcomes', got {command!r}")
    return parts[1:]
