"""``python -m outcomes.faces.cli``: the ``outcomes`` command."""

import sys

from outcomes.faces.cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
