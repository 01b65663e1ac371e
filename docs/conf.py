"""Sphinx configuration of the documentation site (`make docs`; in CI, tests/test_docs.py).

The API reference is generated from the docstrings: ``api/index.md`` lists the eight layer
packages and autosummary walks each one recursively, so a module split into a package, or a new
submodule, appears without editing this file. Notebooks are rendered from their committed
outputs (never re-executed). numpydoc validates every documented public function, class and
method against ``NUMPYDOC_CHECKS``; no module is excluded (``numpydoc_validation_exclude``).
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))

import outcomes  # noqa: E402

project = "outcomes"
author = "outcomes developers"
copyright = "outcomes developers"
release = version = getattr(outcomes, "__version__", "")

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
    "sphinxarg.ext",
]

root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
# Markdown pages (README, data dictionary) and notebooks are read by myst-nb.
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# -- API reference -----------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {
    # A package's __init__ re-exports its submodules' functions: document each function once,
    # on the page of the module that defines it.
    "ignore-module-all": True,
    "member-order": "bysource",
}
autodoc_typehints = "none"  # the numpydoc Parameters section carries the types
autodoc_mock_imports: list[str] = []

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = False

#: The module autodoc is documenting (its docstring is processed before its members').
_DOCUMENTING: dict[str, str | None] = {"module": None}


def _remember_module(app, what, name, obj, options, lines):
    if what == "module":
        _DOCUMENTING["module"] = name


def _skip_imported_and_data(app, what, name, obj, skip, options):
    """Document a module's own functions and classes only.

    Sphinx 9 processes (and numpydoc validates) the docstring of every member of a module, the
    names it imports too, before it drops them: ``Any`` or a re-exported function would then be
    validated, once per module importing it. Module constants are described in their module's
    docstring.
    """
    if what == "class":
        # Methods a class inherits from scikit-learn (set_*_request, get_params, ...) are
        # scikit-learn's to document.
        owner = getattr(
            getattr(obj, "fget", None) or getattr(obj, "__func__", None) or obj, "__module__", None
        )
        return True if owner and not owner.startswith("outcomes") else None
    if what != "module":
        return None
    if not (inspect.isroutine(obj) or inspect.isclass(obj)):
        return True
    owner = getattr(obj, "__module__", None)
    if owner != _DOCUMENTING["module"]:
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _remember_module, priority=100)
    app.connect("autodoc-skip-member", _skip_imported_and_data)


# -- numpydoc validation (issue 14) ------------------------------------------------------------
#: What every public function, class and method must have: Parameters documented and matching
#: the signature (PR01: a parameter is missing; PR02: a documented parameter does not exist),
#: a Returns section when it returns something (RT01) and an Examples section (EX01).
NUMPYDOC_CHECKS = {"PR01", "PR02", "RT01", "EX01"}
numpydoc_validation_checks = NUMPYDOC_CHECKS
#: No module is excluded from validation (the package is documented throughout).
numpydoc_validation_exclude: set[str] = set()


# -- Notebooks and Markdown ----------------------------------------------------------------------
nb_execution_mode = "off"  # rendered from the committed outputs: never re-executed
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3
# The README and the notebooks link to files of the repository (data/, src/, ...) that are not
# pages of this site.
suppress_warnings = ["myst.xref_missing", "myst.header"]
# Links in Markdown resolve to pages and Python objects only (not to sphinx-argparse's commands).
myst_ref_domains = ["std", "py"]

# -- HTML ----------------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = "outcomes"
html_static_path: list[str] = []
