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
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Recovery timelines: what a triage decision costs in weeks of pain
#
# A patient sent down the wrong care pathway usually still gets better — the natural history of
# sciatica and its mimics is mostly favourable — but more slowly, and sometimes only after a
# detour. This notebook puts a number on that cost. It follows every patient of a synthetic cohort
# for a year of weekly visits under several triage policies and asks:
#
# 1. **How long does recovery take** for each condition when the pathway fits?
# 2. **What does a mismatch cost?** Time to recovery when the pathway fits the condition, when it
#    does not, and when it makes things worse.
# 3. **Which triage policy gets patients better soonest**, and how many weeks of pain does it
#    save per 100 patients compared with the rules?
# 4. **Who is harmed?** Serious pathology left on a routine pathway.
#
# The same patients are simulated under every policy with the same random draws (common random
# numbers), so any difference between policies is the effect of triage alone. Every rate,
# multiplier and threshold lives in `src/outcomes/knowledge/recovery.toml` with its source.

# %% tags=["parameters"]
# Parameters (papermill overrides this cell)
N: int = 5000
SEED: int = 0
SETTING: str = "primary_care"
EXAM_MISSING_RATE: float | None = None  # share of exam signs unrecorded (None: setting's rate)
DROPOUT: float = 0.1
N_BOOT: int = 400

# %%
import matplotlib.pyplot as plt
import pandas as pd

from outcomes import plots, recovery, survival
from outcomes.cohort import generate

plots.use_style()
pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)

# %%
patients = generate(N, seed=SEED, setting=SETTING, exam_missing_rate=EXAM_MISSING_RATE)
names = recovery.available_policies()
REFERENCE = "rules" if "rules" in names else "everyone_spinal"
policies = recovery.build_policies(patients, names, seed=SEED)
sims = recovery.simulate_policies(patients, policies, seed=SEED, dropout=DROPOUT)
outcomes = recovery.stack(sims)
visits = recovery.stack(sims, "visits")
print(f"{len(patients):,} patients in setting '{SETTING}', followed weekly for 52 weeks")
print(f"policies compared: {', '.join(names)}; reference for weeks saved: {REFERENCE}")
print(f"lost to follow-up by one year: {DROPOUT:.0%} expected")

# %% [markdown]
# ## How the recovery model works
#
# Each week a patient's pain (0–10) and disability (ODI, 0–100) move from their baseline towards
# a floor. How fast, and how low, depends on whether the pathway **fits** the condition:
#
# - **matched** — the pathway is the condition's own; fastest, lowest floor;
# - **mismatched** — another routine programme: natural history only, slower, higher floor;
# - **aggravating** — back-focused work for piriformis syndrome: symptoms rise for a few weeks
#   before settling (the seed texts warn about exactly this);
# - **redirected** — an emergency referral that was not needed: about two weeks' detour, then
#   matched care;
# - **harmful** — serious pathology left on a routine pathway: symptoms progress. Flagged as a
#   harm.
#
# Chronic cases (more than 12 weeks of symptoms), more severe cases and less adherent patients
# recover more slowly; a combined presentation recovers fully only when both parts are treated;
# flare-ups and week-to-week noise are added. **Recovery** means pain at most 2/10, or a fall of at
# least 2 points that is also at least half the baseline, held at two visits in a row.
#
# The table shows how every pathway fits every condition.

# %%
recovery.fit_table()

# %% [markdown]
# ## 1 · Time to recovery by condition, when triage is perfect
#
# Each curve is the share of patients **not yet recovered** week by week (Kaplan–Meier, with a 95%
# band); the numbers under the plot are the patients still being followed and not yet recovered.
# Upper-limb nerve problems and hamstring tightness settle within weeks; disc herniation takes
# about two months; stenosis and serious pathology take longest.

# %%
perfect = sims["perfect"].outcomes
ax = plots.km_curves(
    survival.kaplan_meier(perfect, by="condition"),
    title="Recovery by condition with perfect triage",
)
plt.show()

# %%
survival.median_times(perfect, by="condition")

# %% [markdown]
# ## 2 · The cost of a mismatch
#
# Here the patients of every realistic policy (all but *perfect*) are pooled and grouped by how
# their pathway fitted their condition. Matched patients recover soonest. Mismatched patients are
# mostly the quick-settling mimics (hamstring tightness, upper-limb nerves) sent to spinal care,
# so their curve lies only a little to the right — but its tail is long. Aggravating care (back
# exercise for piriformis syndrome) is far slower, and serious pathology on a routine pathway does
# not recover at all. The groups differ in case mix as well as in fit, so read the gaps as "what
# the mismatches that actually happen cost", not as a controlled comparison. The log-rank tests
# ask whether each curve differs from the matched one.

# %%
realistic = outcomes[outcomes["policy"] != "perfect"]
ax = plots.km_curves(
    survival.kaplan_meier(realistic, by="fit"),
    title="Recovery by how well the pathway fitted the condition",
)
plt.show()

# %%
print(survival.median_times(realistic, by="fit").to_string())
print()
print(survival.logrank(realistic, by="fit", reference="matched").to_string(index=False))

# %% [markdown]
# ## 3 · Which triage policy gets patients better soonest?
#
# The same patients, the same random draws, different triage. *Perfect* sends everyone to the
# pathway of their true condition (the unreachable ideal); the *oracle* is the best triage
# possible from the recorded findings; *everyone_spinal* treats every leg or buttock pain as
# sciatica. The curves and medians show how much of the gap between the simplest policy and the
# ideal each method closes. (Log-rank p-values treat the policies as independent groups; because
# they share patients they are conservative. The paired bootstrap below is the primary
# comparison.)

# %%
ax = plots.km_curves(
    survival.kaplan_meier(outcomes, by="policy"),
    title="Recovery under each triage policy (same patients)",
)
plt.show()

# %%
print(survival.median_times(outcomes, by="policy").to_string())
print()
print(survival.logrank(outcomes, by="policy", reference=REFERENCE).to_string(index=False))

# %% [markdown]
# ### Mean pain, week by week
#
# Average pain among the patients seen each week, with a 95% band. The policies separate over the
# first two months, when mismatched and aggravated patients are still in pain, and converge slowly
# as natural history catches up.

# %%
ax = plots.trajectory_bands(
    survival.trajectory(visits, by="policy"),
    title="Mean pain under each triage policy",
)
plt.show()

# %% [markdown]
# ### Weeks of pain saved per 100 patients
#
# The headline number: for every 100 patients triaged, how many fewer weeks do they spend before
# recovering than under the reference policy? It is 100 × the difference in mean weeks to recovery
# within the year (the area under each Kaplan–Meier curve up to week 52), with a 95% interval from
# a paired bootstrap over patients (seeded). Positive means the policy saves weeks of pain.

# %%
saved = survival.weeks_saved(outcomes, reference=REFERENCE, n_boot=N_BOOT, seed=SEED)
survival.format_weeks_saved(saved, REFERENCE)

# %%
ax = plots.bar_with_ci(
    list(saved.index),
    saved["saved_per_100"],
    saved["saved_lower"],
    saved["saved_upper"],
    xlabel=f"Weeks of pain saved per 100 patients vs {REFERENCE} (95% CI)",
    title="Better triage saves weeks of pain",
)
plt.show()

# %% [markdown]
# ## 4 · Harms: serious pathology left on a routine pathway
#
# Every patient with serious pathology (cauda equina and other red-flag conditions) who is not
# referred as an emergency is counted as a harm; in the model their symptoms progress instead of
# settling. A policy that looks good on average weeks saved can still be unsafe here. Even the oracle,
# which maximises *accuracy*, sends some serious pathology down routine pathways when the red flags
# are not recorded: accuracy is not safety, and a safe policy has to weigh a missed emergency far
# above a wasted referral.

# %%
harm_table = survival.harms(outcomes)
harm_table

# %% [markdown]
# ## Summary of this run
#
# The headline numbers, computed above (the HTML report shows them at the top of the page).

# %% tags=["summary"]
survival.recovery_summary(outcomes, saved, REFERENCE, harm_table)

# %% [markdown]
# ## What this shows, and what it does not
#
# - Triage matters in weeks, not only in accuracy: a mismatch delays recovery most for the
#   slow conditions, and back-focused work for piriformis syndrome makes things worse first.
# - The oracle marks how much of that cost any triage method could recover from the recorded
#   findings; the rest is the price of what the record does not show.
# - The numbers are as good as `recovery.toml`: rates from the seed texts ("pinched nerves mostly
#   settle in days to a month", "change within 2–4 weeks of structural correction", chronic cases
#   take longer) and a few published natural-history studies, and assumptions marked as such.
#   Change a rate there and re-run this notebook to see how much the conclusions depend on it.
