"""How the options of ``outcomes report`` map to the notebooks' parameters.

Both the command line (:mod:`outcomes.faces.cli.report`, which reads the options) and the
report (:func:`outcomes.faces.report.rerun_command`, which writes them back as a command) use
this table; it lives apart from both so neither imports the other, and it imports nothing, so
``outcomes --help`` stays fast.
"""

from __future__ import annotations

#: Report options (argparse destinations) and the notebook parameters they set.
REPORT_OPTIONS = {
    "n": "N",
    "seed": "SEED",
    "setting": "SETTING",
    "exam_missing_rate": "EXAM_MISSING_RATE",
}
