"""Draw the README's headline figure: weeks of pain saved per 100 patients, by triage policy.

Run from the project root: ``python tools/headline_figure.py`` (writes
``docs/figures/weeks_saved.png`` and prints the weeks saved with their intervals, for the
README's caption; same computation and parameters as notebook 03's defaults).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("agg")

import matplotlib.pyplot as plt

from outcomes import plots, recovery, survival
from outcomes.cohort import generate

TARGET = Path(__file__).resolve().parents[1] / "docs" / "figures" / "weeks_saved.png"


def main() -> None:
    patients = generate(5000, seed=0, setting="primary_care")
    names = recovery.available_policies()
    policies = recovery.build_policies(patients, names, seed=0)
    outcomes = recovery.stack(recovery.simulate_policies(patients, policies, seed=0, visits=False))
    saved = survival.weeks_saved(outcomes, reference="rules", n_boot=400, seed=0)
    ax = plots.bar_with_ci(
        [
            name.replace("_", " ") + (" (reference)" if name == "rules" else "")
            for name in saved.index
        ],
        saved["saved_per_100"],
        saved["saved_lower"],
        saved["saved_upper"],
        xlabel="Weeks of pain saved per 100 patients vs the rules (95% CI)",
        title="Better triage saves weeks of pain (5,000 primary-care patients)",
    )
    ax.axvline(0, color="black", linewidth=0.8)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(TARGET, bbox_inches="tight", metadata={"Software": None})
    plt.close(ax.figure)
    print(f"wrote {TARGET}")
    # The numbers the README caption quotes.
    print(survival.format_weeks_saved(saved, "rules").to_string())


if __name__ == "__main__":
    main()
