"""outcomes: sciatica and its mimics — synthetic cohorts, triage, recovery timelines."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("outcomes")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["__version__"]
