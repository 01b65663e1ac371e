"""The notebooks here are evidence, not tests of the suite.

``tests/test_nbval_canary.py`` copies them to a temporary folder and runs strict nbval on each
in a subprocess: the broken one must fail, its correct twin must pass. They must never be
collected by the project's own ``pytest --nbval`` run, where the broken one would fail it.
"""

collect_ignore_glob = ["*.ipynb"]
