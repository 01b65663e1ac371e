"""Faces: what a person sees and types: figures, the command line, the HTML report.
The top layer."""
