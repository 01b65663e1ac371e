"""Execute the notebooks and render them as an HTML report a person can open.

:func:`run_report` runs every notebook with papermill, renders each executed copy to HTML and
writes an ``index.html`` and a ``manifest.json`` beside them, replacing the report folder only
when every notebook succeeded. The work is split by job:

- :mod:`~outcomes.faces.report.execute`: :func:`run_report`, one notebook executed and rendered;
- :mod:`~outcomes.faces.report.parameters`: what each notebook declares, what a run may pass,
  and the commands that run the report (or draw its cohort) again;
- :mod:`~outcomes.faces.report.render`: the notebook pages, the index, the data card, the
  manifest;
- :mod:`~outcomes.faces.report.folder`: the folder replaced whole, and put right after a run
  killed half-way.

The kernel and its environment (:data:`KERNEL_ENV`), the notebooks' order, and
:func:`execute_in_place` (``make notebooks``) are project tooling in :mod:`outcomes._dev`;
they are re-exported here, where the Makefile, the tests and the tools import them.
"""

from outcomes._dev.execute import execute_in_place
from outcomes._dev.kernel import (
    KERNEL_ARGUMENTS,
    KERNEL_DISPLAY_NAME,
    KERNEL_ENV,
    KERNEL_NAME,
    KERNELSPEC,
    discover_notebooks,
    kernel_environment,
    notebook_order_key,
)
from outcomes.faces.report.execute import execute_and_render, run_report
from outcomes.faces.report.folder import (
    PREVIOUS_MARK,
    check_replaceable,
    recover_interrupted_replacement,
    replace_folder,
)
from outcomes.faces.report.parameters import (
    COHORT_PARAMETERS,
    check_parameter_values,
    declared_parameters,
    effective_parameters,
    plan_notebooks,
    rerun_command,
    run_cohort_command,
)
from outcomes.faces.report.render import (
    DATACARD_NAME,
    DATACARD_SOURCE,
    INDEX_NAME,
    KEY_LIBRARIES,
    MANIFEST_NAME,
    build_manifest,
    index_html,
    library_versions,
    notebook_summary,
    render_notebook,
    source_state,
    write_report_datacard,
)
from outcomes.faces.report_options import REPORT_OPTIONS
from outcomes.infra.paths import project_root

__all__ = [
    "COHORT_PARAMETERS",
    "DATACARD_NAME",
    "DATACARD_SOURCE",
    "INDEX_NAME",
    "KERNELSPEC",
    "KERNEL_ARGUMENTS",
    "KERNEL_DISPLAY_NAME",
    "KERNEL_ENV",
    "KERNEL_NAME",
    "KEY_LIBRARIES",
    "MANIFEST_NAME",
    "PREVIOUS_MARK",
    "REPORT_OPTIONS",
    "build_manifest",
    "check_parameter_values",
    "check_replaceable",
    "declared_parameters",
    "discover_notebooks",
    "effective_parameters",
    "execute_and_render",
    "execute_in_place",
    "index_html",
    "kernel_environment",
    "library_versions",
    "notebook_order_key",
    "notebook_summary",
    "plan_notebooks",
    "project_root",
    "recover_interrupted_replacement",
    "render_notebook",
    "replace_folder",
    "rerun_command",
    "run_cohort_command",
    "run_report",
    "source_state",
    "write_report_datacard",
]
