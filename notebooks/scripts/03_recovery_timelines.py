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
# # 03 · Recovery timelines: what a triage decision costs in weeks of pain
#
# A patient sent down the wrong care pathway usually still gets better — the natural history of
# sciatica and its mimics is mostly favourable — but more slowly, and sometimes only after a
# detour. This notebook puts a number on that cost. It follows every patient of a synthetic cohort
# with weekly visits under several triage policies and asks:
#
# 1. **How long does recovery take** for each condition when the pathway fits?
# 2. **What does a mismatch cost?** Time to recovery when the pathway fits the condition, when it
#    does not, and when it makes things worse; and what an unaddressed second problem costs.
# 3. **Which triage policy gets patients better soonest**, and how many weeks of pain does it
#    save per 100 patients compared with the rules?
# 4. **Who is harmed?** Serious pathology left on a routine pathway.
#
# The same patients are simulated under every policy with the same random draws (common random
# numbers), so any difference between policies is the effect of triage alone. Every rate,
# multiplier and threshold lives in `src/outcomes/knowledge/recovery.toml` with its source;
# numbers the source texts only give a direction for are marked as assumptions.

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
params = recovery.load_recovery()
names = recovery.available_policies()
REFERENCE = "rules" if "rules" in names else "everyone_spinal"
policies = recovery.build_policies(patients, names, seed=SEED)
sims = recovery.simulate_policies(patients, policies, seed=SEED, dropout=DROPOUT)
outcomes = recovery.stack(sims)
WEEKS = survival.follow_up_weeks(outcomes)
AT_RISK = survival.at_risk_weeks(WEEKS)
reference = outcomes[outcomes["policy"] == REFERENCE]
lost = (reference["last_visit_week"] < WEEKS).mean()
combined = (patients["secondary_condition"] != "none").mean()
low = (patients["pain_nrs"] <= params.pain_max).mean()
print(f"{len(patients):,} patients in setting '{SETTING}', followed weekly for {WEEKS} weeks")
print(f"policies compared: {', '.join(names)}; reference for weeks saved: {REFERENCE}")
print(f"lost to follow-up before week {WEEKS}: {DROPOUT:.0%} expected, {lost:.1%} observed")
print(f"combined presentations (a secondary contributor): {combined:.1%} of patients")
print(f"baseline pain already at or below {params.pain_max:g}/10: {low:.1%} of patients")

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
# - **redirected** — an emergency referral that was not needed: a detour of `delay_weeks`, then
#   the primary condition's own pathway (which treats a secondary part only as that pathway
#   would);
# - **harmful** — serious pathology left on a routine pathway: symptoms progress. Flagged as a
#   harm.
#
# Chronic cases (more than 12 weeks of symptoms), more severe cases and less adherent patients
# recover more slowly; flare-ups (less frequent when the pathway fits) and week-to-week noise
# are added.
#
# **Combined presentations** (a secondary contributor, such as tight hamstrings beside a disc
# herniation) recover fully only when both parts are treated. A policy may give a second
# pathway for the secondary part; *perfect* triage does, while the triage methods compared here
# (rules, learned models, the oracle) choose one pathway per patient, so the secondary part of a
# combined presentation is treated only when that one pathway happens to be its own, and then the
# primary condition is not.
#
# **Recovery** is defined in `recovery.toml`; patients who start at or below the absolute
# cut-off can recover only through the relative fall, so nobody counts as recovered just for
# starting low:

# %%
print(recovery.recovery_definition(params))

# %% [markdown]
# The table shows how every pathway fits every condition.

# %%
recovery.fit_table()

# %% [markdown]
# ## 1 · Time to recovery by condition, when triage is perfect
#
# Each curve is the share of patients **not yet recovered** week by week (Kaplan–Meier, with a 95%
# band); the numbers under the plot are the patients still being followed and not yet recovered.
# The line under the plot lists this run's medians, fastest first.

# %%
perfect = sims["perfect"].outcomes
ax = plots.km_curves(
    survival.kaplan_meier(perfect, by="condition"),
    title=survival.condition_title(perfect, "perfect"),
    at_risk_weeks=AT_RISK,
)
plt.show()
print(survival.condition_findings(perfect))

# %%
survival.median_times(perfect, by="condition")

# %% [markdown]
# ## 2 · The cost of a mismatch
#
# The patients triaged by the reference policy, grouped by how their pathway fitted their
# condition: one row per patient (pooling several policies would count the same patient once
# per policy and make the bands and p-values too narrow). The groups differ in case mix as well as
# in fit — the sentence under the plot says which conditions the mismatched patients mostly had —
# so read the gaps as "what the mismatches that actually happen cost", not as a controlled
# comparison. The log-rank tests ask whether each curve differs from the matched one.

# %%
ax = plots.km_curves(
    survival.kaplan_meier(reference, by="fit"),
    title=f"Recovery by how well the pathway fitted the condition ({REFERENCE})",
    at_risk_weeks=AT_RISK,
)
plt.show()
print(survival.fit_findings(reference, REFERENCE))

# %%
print(survival.median_times(reference, by="fit").to_string())
print()
print(survival.logrank(reference, by="fit", reference="matched").to_string(index=False))

# %% [markdown]
# ### Combined presentations: one problem treated, or both
#
# Pain left at the last visit, as a share of baseline pain, for patients with a secondary
# contributor and for everyone else, under each policy (same patients, same weeks seen). Only a
# policy that addresses the secondary part brings combined presentations down to the level of
# single ones.

# %%
survival.combined_presentations(outcomes)

# %% [markdown]
# ## 3 · Which triage policy gets patients better soonest?
#
# The same patients, the same random draws, different triage. *Perfect* sends everyone to the
# pathway of their true condition, and the secondary contributor to its own (the unreachable
# ideal); the *oracle* is the best single pathway possible from the recorded findings;
# *everyone_spinal* treats every leg or buttock pain as sciatica. The curves and medians show how
# much of the gap between the simplest policy and the ideal each method closes. (Log-rank
# p-values treat the policies as independent groups; because they share patients they are
# conservative. The paired bootstrap below is the primary comparison.)

# %%
ax = plots.km_curves(
    survival.kaplan_meier(outcomes, by="policy"),
    title="Recovery under each triage policy (same patients)",
    at_risk_weeks=AT_RISK,
)
plt.show()

# %%
print(survival.median_times(outcomes, by="policy").to_string())
print()
print(survival.logrank(outcomes, by="policy", reference=REFERENCE).to_string(index=False))

# %% [markdown]
# ### Mean pain, week by week
#
# Average pain among the patients seen each week, with a 95% band. The sentence under the plot
# says when the policies differ most and how far apart they end.

# %%
pain_by_policy = survival.policy_trajectories({name: sim.visits for name, sim in sims.items()})
ax = plots.trajectory_bands(pain_by_policy, title=survival.trajectory_title(pain_by_policy))
plt.show()
print(survival.trajectory_findings(pain_by_policy))

# %% [markdown]
# ### Weeks of pain saved per 100 patients
#
# The headline number: for every 100 patients triaged, how many fewer weeks do they spend before
# recovering than under the reference policy? It is 100 × the difference in mean weeks to recovery
# within follow-up (the area under each Kaplan–Meier curve up to the last week), with a 95%
# interval from a paired bootstrap over patients (seeded). Positive means the policy saves weeks
# of pain.

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
    title=survival.weeks_saved_title(saved, REFERENCE),
)
plt.show()

# %% [markdown]
# ## 4 · Harms: serious pathology left on a routine pathway
#
# Every patient with serious pathology (cauda equina and other red-flag conditions) who is not
# referred as an emergency is counted as a harm; in the model their symptoms progress instead of
# settling. A policy that looks good on average weeks saved can still be unsafe here: the
# oracle maximises *accuracy*, which is not safety — a safe policy has to weigh a missed
# emergency far above a wasted referral. The sentence under the table gives this run's counts.

# %%
harm_table = survival.harms(outcomes)
print(harm_table.to_string())
print()
print(survival.harm_findings(harm_table))

# %% [markdown]
# ## Summary of this run
#
# The headline numbers, computed above (the HTML report shows them at the top of the page). The
# best *realistic* policy is chosen among those a service could run — not perfect triage, and not
# the oracle, which is the ceiling — and compared with the runner-up on the same patients.

# %% tags=["summary"]
survival.recovery_summary(outcomes, saved, REFERENCE, harm_table, n_boot=N_BOOT, seed=SEED)

# %% [markdown]
# ## What this shows, and what it does not
#
# - Triage matters in weeks, not only in accuracy: in this model a mismatch slows recovery and
#   raises the floor it settles at, and back-focused work for piriformis syndrome makes things
#   worse first; the tables above measure how much that costs for this cohort.
# - The oracle marks how much of that cost any single-pathway triage could recover from the
#   recorded findings; the rest is the price of what the record does not show, and of treating
#   only one part of a combined presentation.
# - The numbers are as good as `recovery.toml`: rates follow the seed texts' directions (pinched
#   nerves mostly settle within a month, change within weeks of targeted work, chronic cases take
#   longer) and a few published studies, with the numbers we chose marked as assumptions.
#   Change a rate there and re-run this notebook to see how much the conclusions depend on it.
