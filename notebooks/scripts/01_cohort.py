# ---
# jupyter:
#   jupytext:
#     formats: ipynb,scripts//py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: outcomes (.venv)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · The synthetic cohort: who has leg or buttock pain, and how well can anyone triage them?
#
# This notebook generates a cohort of patients with leg or buttock pain from the knowledge base
# (`src/outcomes/knowledge/*.toml`) and answers three questions:
#
# 1. **Who are they?** Demographics and baseline scores by true condition (Table 1).
# 2. **What do their records show?** How often each finding is present for each condition, and how
#    the case mix differs between care settings.
# 3. **What is the best triage possible?** The exact Bayes posterior (the *oracle*) under the same
#    model that generated the data gives the highest accuracy any method can reach on this cohort.
#
# Change the parameters below (or pass them with papermill / `outcomes report`) to explore another
# cohort size, seed or care setting.

# %% tags=["parameters"]
# Parameters (papermill overrides this cell)
N: int = 5000
SEED: int = 20261122
SETTING: str = "primary_care"
EXAM_MISSING_RATE: float | None = None  # share of exam signs unrecorded (None: setting's rate)

# %%
import matplotlib.pyplot as plt
import pandas as pd

from outcomes.analysis import describe
from outcomes.analysis.evaluate import ceiling, ceiling_misses
from outcomes.analysis.targets import check_targets
from outcomes.captions import cohort as cohort_captions
from outcomes.captions.formatting import styled
from outcomes.engine.cohort import generate
from outcomes.faces import plots
from outcomes.triage.oracle import BayesOracle

plots.use_style()
pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)

# %%
patients = generate(N, seed=SEED, setting=SETTING, exam_missing_rate=EXAM_MISSING_RATE)
print(f"{len(patients):,} patients generated in setting '{SETTING}' with seed {SEED}")
print(f"columns: {patients.shape[1]}; exam findings recorded: "
      f"{patients.filter(like='exam_').notna().to_numpy().mean():.1%}")

# %% [markdown]
# ## Table 1 · Demographics and baseline scores by true condition
#
# Disc herniation peaks in mid-life, stenosis in older adults; piriformis syndrome and hamstring
# tightness are common in runners, cyclists and desk workers. Serious pathology is rare (about 1 in
# 100 in primary care) and arrives with the highest pain and disability scores.

# %%
styled(describe.table_one(patients))

# %% [markdown]
# ## Finding signatures
#
# Each cell is the share of patients with that condition who have the finding, among those whose
# record includes it (exam signs are often not recorded in primary care). Pain below the knee,
# cough/sneeze aggravation and a positive straight-leg raise point to the spine; a positive FAIR
# test, stairs, crossing the legs and lying on the side point to the piriformis; tight hamstrings
# with a posterior pelvic tilt and no neurological deficit point to the muscles; red flags cluster
# in serious pathology.

# %%
ax = plots.finding_heatmap(describe.finding_prevalence(patients))
plt.show()

# %% [markdown]
# ## Case mix by care setting
#
# Who walks in depends on where: the bars show each setting's case mix from the knowledge base and,
# beside this cohort's setting, the mix actually drawn.

# %%
mix = describe.case_mix(df=patients)
ax = plots.case_mix_bars(mix)
plt.show()

# %%
observed = mix[mix["setting"] == SETTING].set_index("condition")[["expected", "observed"]]
styled((100 * observed.fillna(0)).rename(columns=lambda c: f"{c} (%)"), digits=1)

# %% [markdown]
# ## Does the cohort reproduce published figures?
#
# Each figure is checked separately with its 95% interval (never averaged into one score). Only
# the targets defined for this cohort's setting are shown; the test suite checks all of them on
# large cohorts of every setting. The **basis** says what meeting a figure proves: *published* is an
# independent check; *calibrated* means inputs of the knowledge base were fitted to that published
# figure, so meeting it shows the fit holds; *input* is the knowledge base's own value echoed back
# (no published figure, shown in its own column). A *derived* figure is one the model has to produce
# (a mixture over conditions, severity and case mix) rather than echo a single input. A *known gap*
# is a published figure the knowledge base is known to miss; its reason is printed beside a miss.
#
# Every published figure (these in every setting, the course of the conditions: natural history,
# surgery, relapse and lasting harm, and a replayed randomised trial) is checked in one place,
# calibrated and held-out figures apart, in `05_validation.ipynb` and by `outcomes validate`.

# %%
targets = check_targets({SETTING: patients})
shown = targets[targets["setting"] == SETTING].set_index("label")
styled(cohort_captions.format_targets_table(shown))

# %%
print(cohort_captions.targets_caption(shown))
for label, row in shown[shown["known_gap"] != ""].iterrows():
    print(f"- known gap, {label}: {row['known_gap']}")

# %% [markdown]
# ## The ceiling: the oracle's triage accuracy
#
# The oracle knows the generator's likelihoods and computes the exact posterior probability of each
# care pathway from everything recorded: it integrates over latent severity, secondary contributors
# and the shared pain-sensitivity factor, reads each finding as it was *recorded* (with its examiner
# or reporting error) and skips findings that were not recorded. Choosing the most probable pathway
# maximises expected accuracy: no rules or learned model can do better on this cohort beyond
# sampling error.

# %%
oracle = BayesOracle(setting=SETTING).fit(patients)
best = ceiling(patients, oracle)
overall = best.loc["all patients"]
print(f"Best achievable accuracy: {overall['summary']} "
      f"({overall['correct']:,} of {overall['patients']:,} patients)")
best[["patients", "correct", "summary"]]

# %%
ax = plots.bar_with_ci(
    best.index[1:], best["accuracy"].iloc[1:].fillna(0), best["ci_low"].iloc[1:].fillna(0),
    best["ci_high"].iloc[1:].fillna(0), xlabel="Oracle accuracy (share triaged correctly)",
    title=cohort_captions.ceiling_title(best),
)
plt.show()

# %%
misses = ceiling_misses(patients, oracle)
print(cohort_captions.ceiling_reason(misses))
misses.head(5).round(3)

# %% [markdown]
# ## Summary of this run
#
# The headline numbers, computed above (the HTML report shows them at the top of the page).

# %% tags=["summary"]
cohort_captions.cohort_summary(patients, best, targets)

# %% [markdown]
# **Reading the result.** The oracle's misses are patients whose records genuinely look like
# another condition: findings are shared across conditions (somatic referred leg pain, the
# commonest mimic of sciatica in primary care, shares most of them), several provocation
# findings rise and fall together with the patient's pain sensitivity, and what is recorded
# carries examiner and reporting error at rates taken from published agreement studies. The
# sentence above, computed from this run, names the commonest overlaps. Notebook 02 compares
# explainable rules and learned models against this ceiling.
