"""Analysis: how well and how safely triage methods do, descriptive tables, survival,
published figures and validation, sensitivity, studies and a team's own records. Returns numbers."""
