"""Project tooling (notebook-script pairing, the paraphrase check): used by the Makefile and the
tests, not part of the library's API."""
