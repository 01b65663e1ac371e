"""The data card of a generated cohort: how it was made and what every column means.

The card is rendered from the cohort file's own metadata and from the column declaration in
:mod:`outcomes.engine.cohort`, so it cannot disagree with either. ``DEFAULT_COMMAND`` is the command
that made the committed default cohort; a test re-runs it and compares the data.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from outcomes.engine.cohort import patient_columns
from outcomes.infra.io import atomic_path, read_metadata
from outcomes.infra.paths import project_root
from outcomes.knowledge import load_knowledge

DEFAULT_COHORT = Path("data/synthetic/default_cohort.parquet")
#: The command that produced the committed default cohort (run from the project root).
DEFAULT_COMMAND = (
    "outcomes generate --n 5000 --seed 20261122 --setting primary_care "
    f"--out {DEFAULT_COHORT.as_posix()}"
)

#: What :func:`outcomes.engine.cohort.write_cohort` records as the writer of a file.
GENERATOR = "outcomes.cohort.generate"
_RECORDED = ("n", "seed", "setting")

KNOWN_LIMITS = """\
- Synthetic: every patient is drawn from the model in `src/outcomes/knowledge/*.toml`. Most
  numbers there are assumptions informed by four patient-education texts and a handful of
  published figures (see `references.toml`); the cohort is a test bed for triage methods, not
  an estimate of any real population.
- Findings are independent given the condition, latent severity, chronicity, secondary
  contributor and one shared pain-sensitivity factor; real findings are correlated in more
  ways than that. Recorded findings carry examiner and reporting error (red flags do not).
- From the history alone the oracle still separates radicular from other leg pain better
  than published multivariable models (targets.toml lists the gap); with the examination it
  is within the published range.
- Exam findings and red flags are missing completely at random at each setting's rate; in
  real records what is examined depends on what the clinician suspects.
- One setting per generated file; the case mix is the setting's, not a measured one.
- Ages are whole years from a truncated normal per condition; ODI moves in steps of 2.
"""


class NoProvenanceError(ValueError):
    """A cohort file records no provenance: it was not written by ``outcomes generate``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "team.csv"
    >>> _ = csv.write_text("patient_id\\nA\\n")
    >>> provenance(csv)
    Traceback (most recent call last):
    ...
    outcomes.engine.datacard.NoProvenanceError: team.csv is not a Parquet file written by ...
    """


def recorded_command(meta: Mapping[str, Any], out: str) -> str:
    """The ``outcomes generate`` command that reproduces a file with metadata ``meta``.

    Built only from what the file records (``n``, ``seed``, ``setting``, ``overrides``), so a
    card can never state another file's command.

    Parameters
    ----------
    meta : mapping
        The file's generation metadata (:func:`provenance`).
    out : str
        The ``--out`` path to state.

    Returns
    -------
    str
        The command, quoted for a POSIX shell.

    Examples
    --------
    >>> recorded_command({"n": 100, "seed": 1, "setting": "primary_care", "overrides": {}},
    ...                  "c.parquet")
    'outcomes generate --n 100 --seed 1 --setting primary_care --out c.parquet'
    >>> command = recorded_command({"n": 5, "seed": 2, "setting": "sports_clinic",
    ...                             "overrides": {"exam_missing_rate": 0.5}}, "x.parquet")
    >>> print(command.partition(" --overrides ")[2])
    '{"exam_missing_rate": 0.5}' --out x.parquet
    """
    words = ["outcomes", "generate", "--n", str(meta["n"]), "--seed", str(meta["seed"])]
    words += ["--setting", str(meta["setting"])]
    overrides = meta.get("overrides") or {}
    if overrides:
        words += ["--overrides", json.dumps(overrides, sort_keys=True)]
    words += ["--out", out]
    return shlex.join(words)


def provenance(cohort_path: str | Path) -> dict[str, Any]:
    """The generation metadata a cohort file records; raises if it records none.

    Parameters
    ----------
    cohort_path : str or pathlib.Path
        A cohort file.

    Returns
    -------
    dict
        The recorded metadata: generator, ``n``, ``seed``, ``setting``, ``overrides`` and more.

    Raises
    ------
    NoProvenanceError
        If the file is not a Parquet cohort written by ``outcomes generate`` (a team's own
        file, a CSV, a Parquet written by other code): its card could state nothing true.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.cohort import write_cohort
    >>> p = write_cohort(pathlib.Path(tempfile.mkdtemp()) / "c.parquet", 10, seed=3)
    >>> provenance(p)["seed"]
    3
    """
    path = Path(cohort_path)
    try:
        meta = read_metadata(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise NoProvenanceError(
            f"{path.name} is not a Parquet file written by outcomes generate ({exc})"
        ) from None
    missing = [key for key in _RECORDED if key not in meta]
    if meta.get("generator") != GENERATOR or missing:
        raise NoProvenanceError(
            f"{path.name} records no provenance from outcomes generate (missing: "
            f"{', '.join(missing) or 'generator'}); a data card states only what the file "
            "records, so there is none to write"
        )
    return meta


def _md(text: str) -> str:
    """``text`` for a Markdown table cell: angle brackets and bars shown, not parsed."""
    return text.replace("\\", "\\\\").replace("<", "\\<").replace(">", "\\>").replace("|", "\\|")


def _out_name(path: Path) -> str:
    """How the card names the file: relative to the project root when inside it."""
    try:
        return path.resolve().relative_to(project_root()).as_posix()
    except ValueError:
        return path.name


def render_datacard(
    cohort_path: str | Path,
    *,
    title: str | None = None,
    out: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    condition_counts: Mapping[str, int] | None = None,
    command: str | None = None,
) -> str:
    """Markdown data card for a cohort file written by ``outcomes generate``.

    Everything under "How it was made" comes from the file's own metadata (n, seed, setting,
    overrides, version); a file without it is refused (:func:`provenance`).

    Parameters
    ----------
    cohort_path
        Parquet file written by :func:`outcomes.engine.cohort.write_cohort`.
    title
        Heading of the card (default: the file's name).
    out
        File name shown in the reproducing command (default: the path relative to the
        project root, or the file's name outside it).
    metadata, condition_counts
        Replace what is otherwise read from the file: a partitioned cohort passes the
        metadata and per-condition counts its manifest records (:mod:`outcomes.engine.partitioned`),
        so that nothing reads the whole table.
    command
        The reproducing command, when the caller records one the metadata cannot rebuild
        (a partitioned cohort's chunk size and folder).

    Returns
    -------
    str
        The card as Markdown.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.cohort import write_cohort
    >>> p = write_cohort(pathlib.Path(tempfile.mkdtemp()) / "c.parquet", 100, seed=1)
    >>> card = render_datacard(p)
    >>> card.splitlines()[0]
    '# Data card: c.parquet'
    >>> "outcomes generate --n 100 --seed 1 --setting primary_care --out c.parquet" in card
    True
    """
    path = Path(cohort_path)
    meta = provenance(path) if metadata is None else dict(metadata)
    if command is None:
        command = recorded_command(meta, out if out is not None else _out_name(path))
    if condition_counts is None:
        counts = pd.read_parquet(path, columns=["condition"])["condition"].value_counts()
    else:
        counts = pd.Series(dict(condition_counts), dtype="int64")
    kb = load_knowledge()
    overrides = meta.get("overrides") or {}
    lines = [
        f"# Data card: {title if title is not None else path.name}",
        "",
        "Synthetic patients with leg or buttock pain: true sciatica (disc herniation, spinal",
        "stenosis), piriformis syndrome, hamstring tightness, a pinched nerve elsewhere and",
        "serious pathology with red flags. Generated, never edited by hand.",
        "",
        "## How it was made",
        "",
        "As recorded in the file's own metadata:",
        "",
        "```",
        command,
        "```",
        "",
        f"- package version: `{meta.get('version', 'not recorded')}`",
        f"- patients: {meta['n']}; seed: {meta['seed']}; setting: `{meta['setting']}`; "
        "overrides: " + (f"`{json.dumps(overrides, sort_keys=True)}`" if overrides else "none"),
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
        meaning = _md(col.meaning)
        if col.categories is not None:
            meaning += "; one of: " + ", ".join(f"`{c}`" for c in col.categories)
        lines.append(f"| `{col.name}` | {col.dtype} | {meaning} |")
    lines += [
        "",
        "Columns `condition`, `secondary_condition`, `pathway`, `latent_severity` and",
        "`pain_sensitivity` are the generator's truth: triage methods must not use them. The",
        "findings are what was recorded (with examiner and reporting error), not the truth.",
        "",
        "## Known limits",
        "",
        KNOWN_LIMITS,
    ]
    return "\n".join(lines)


def write_datacard(cohort_path: str | Path, out: str | Path) -> Path:
    """Render the data card of ``cohort_path`` and write it atomically to ``out``.

    Nothing is written for a file without provenance (:class:`NoProvenanceError`).

    Parameters
    ----------
    cohort_path : str or pathlib.Path
        A Parquet cohort written by ``outcomes generate``.
    out : str or pathlib.Path
        The Markdown file to write.

    Returns
    -------
    pathlib.Path
        ``out``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from outcomes.engine.cohort import write_cohort
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> cohort = write_cohort(folder / "c.parquet", 10, seed=3)
    >>> write_datacard(cohort, folder / "CARD.md").read_text(encoding="utf-8").startswith("#")
    True
    """
    text = render_datacard(cohort_path)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(out)


def command_arguments(command: str = DEFAULT_COMMAND) -> list[str]:
    """The recorded command as CLI arguments (without the leading ``outcomes``).

    Parameters
    ----------
    command : str, default DEFAULT_COMMAND
        A recorded ``outcomes ...`` command.

    Returns
    -------
    list of str
        Its words after ``outcomes``.

    Raises
    ------
    ValueError
        If the command does not start with ``outcomes``.

    Examples
    --------
    >>> command_arguments("outcomes generate --n 5 --seed 1")
    ['generate', '--n', '5', '--seed', '1']
    """
    parts = shlex.split(command)
    if not parts or parts[0] != "outcomes":
        raise ValueError(f"recorded command must start with 'outcomes', got {command!r}")
    return parts[1:]
