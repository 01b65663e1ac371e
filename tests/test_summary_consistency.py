"""Headline sentences give the numbers a reader needs: per method, not a range across them."""

from __future__ import annotations

from outcomes.analysis.survival import harms, weeks_saved
from outcomes.captions.survival import recovery_summary
from outcomes.engine.cohort import generate
from outcomes.engine.recovery import simulate_policies, stack
from outcomes.triage.policies import build_policies


def test_the_recovery_headline_gives_serious_pathology_missed_per_policy():
    patients = generate(1500, seed=3)
    policies = build_policies(patients, ["everyone_spinal", "rules", "oracle"], seed=3)
    out = stack(simulate_policies(patients, policies, seed=3, visits=False))
    harm = harms(out)
    saved = weeks_saved(out, reference="everyone_spinal", n_boot=20)
    summary = recovery_summary(out, saved, "everyone_spinal", harm, n_boot=20)
    (sentence,) = [f for f in summary.findings if "routine pathway" in f]
    serious = int(harm["patients with serious pathology"].max())
    assert serious > 0
    assert f"of {serious} patients" in sentence
    for policy, missed in harm["under-triaged emergencies"].items():
        assert f"{policy} {int(missed)}" in sentence
    assert " to " not in sentence  # a range across policies hides which method missed them
