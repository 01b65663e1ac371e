"""The engine: the patient model as arrays, the cohort generator, recovery timelines,
partitioned cohorts and their data cards. Reads knowledge; knows nothing of triage methods."""
