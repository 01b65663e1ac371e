"""Captions: every sentence, title and display table built from the analysis' numbers, apart
from the arithmetic, so a clinician can review the words in one place."""
