"""Show the trajectory-class shares that calibrate recovery.toml's disc-herniation (and somatic
referred leg pain) membership to the ATLAS leg-pain classes (26% persistent moderate, 13%
persistent severe; study:ogollah2018), for candidate shares given on the command line.

Run from the project root: ``python tools/calibrate_recovery.py 0.2,0.105 0.21,0.11``. Each
argument is ``persistent_moderate,persistent_severe``; recovering slowly stays at its value and
recovering quickly takes the rest. Prints the class shares of primary-care leg-pain patients
triaged by the rules (20,000 patients, seed 0), the figure the calibration reproduces.
"""

from __future__ import annotations

import sys

from outcomes.engine.cohort import generate
from outcomes.engine.recovery import load_recovery, simulate
from outcomes.triage.policies import policy

CONDITIONS = ("disc_herniation", "somatic_referred")


def main(candidates: list[str]) -> None:
    base = load_recovery()
    patients = generate(20_000, seed=0, setting="primary_care")
    plan = policy("rules", patients, 0)
    leg = (patients["condition"].astype(str) != "upper_limb_nerve").to_numpy()
    slow = base["membership.disc_herniation.recovering_slow"]
    for candidate in candidates or ["current"]:
        changes = {}
        if candidate != "current":
            moderate, severe = (float(x) for x in candidate.split(","))
            for c in CONDITIONS:
                changes |= {
                    f"membership.{c}.recovering_fast": 1 - slow - moderate - severe,
                    f"membership.{c}.persistent_moderate": moderate,
                    f"membership.{c}.persistent_severe": severe,
                }
        params = base.with_values(changes)
        out = simulate(patients, plan, 0, dropout=0.0, params=params, visits=False).outcomes
        shares = out[leg]["trajectory_class"].value_counts(normalize=True).round(3)
        print(candidate, shares.to_dict())


if __name__ == "__main__":
    main(sys.argv[1:])
