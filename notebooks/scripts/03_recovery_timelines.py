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
# Sciatica and its mimics mostly get better, but not all of them and not at the same pace:
# prognostic cohorts of back-related leg pain in primary care find a majority improving within
# months and a large minority with moderate or severe leg pain a year later. This notebook
# follows every patient of a synthetic cohort weekly under several triage policies and asks:
#
# 1. **How does each condition run its course** when the pathway fits, and who stays unwell?
# 2. **What does a mismatch cost?** Time to recovery when the pathway fits the condition, when it
#    does not, and when it makes things worse; and what an unaddressed second problem costs.
# 3. **Which triage policy gets patients better soonest**, and how many weeks of pain does it
#    save per 100 patients compared with the rules?
# 4. **What else changes**: operations, relapses, and lasting harm from serious pathology left
#    on a routine pathway.
# 5. **How sure is the headline?** Each number with a sampling interval and an interval for the
#    uncertainty of the model's own parameters.
#
# The same patients are simulated under every policy with the same random draws (common random
# numbers), so any difference between policies is the effect of triage alone. Every number of
# the recovery model lives in `src/outcomes/knowledge/recovery.toml` with its source and, where
# uncertain, its plausible range; notebook 05 checks the model against published figures.

# %% tags=["parameters"]
# Parameters (papermill overrides this cell)
N: int = 5000
SEED: int = 0
SETTING: str = "primary_care"
EXAM_MISSING_RATE: float | None = None  # share of exam signs unrecorded (None: setting's rate)
DROPOUT: float = 0.1
N_BOOT: int = 400
N_PSA: int = 2000  # patients in the sensitivity analysis (the first N_PSA of the cohort)
N_DRAWS: int = 100  # parameter draws of the probabilistic sensitivity analysis
PSA_WORKERS: int | None = None  # run the parameter draws on a local Dask cluster of this many workers
PSA_SCHEDULER: str | None = None  # ... or on a running Dask scheduler (tcp://HOST:PORT); both None: here

# %%
import matplotlib.pyplot as plt
import pandas as pd

from outcomes.analysis import sensitivity, survival
from outcomes.captions import survival as captions
from outcomes.captions.formatting import styled
from outcomes.captions.validation import format_headline_table, headline_caption
from outcomes.engine import recovery
from outcomes.engine.cohort import generate
from outcomes.faces import plots
from outcomes.triage.policies import POLICIES, build_policies

plots.use_style()
pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)

# %%
patients = generate(N, seed=SEED, setting=SETTING, exam_missing_rate=EXAM_MISSING_RATE)
params = recovery.load_recovery()
names = POLICIES
REFERENCE = "rules"
policies = build_policies(patients, names, seed=SEED)
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
# These are the same patients as notebook 02's test cohort (same `N`, `SEED` and `SETTING`), so
# the patients with serious pathology here are 02's emergencies. The learned policies here are
# trained on a synthetic cohort of their own as large as this one (at least 2,000 patients,
# `outcomes.triage.policies.training_cohort`), not on 02's `N_TRAIN`, which is why the logistic
# and boosted policies can leave more serious pathology on a routine pathway here than in 02.

# %% [markdown]
# ## How the recovery model works
#
# **Natural history first.** Each patient's condition (and, in a combined presentation, the
# secondary contributor) follows one of four courses, the trajectory classes described for
# back-related leg pain in primary care: *recovering quickly*, *recovering slowly*,
# *persistent moderate* and *persistent severe*. Each class has its own pace and the level it
# settles at, as a share of the patient's baseline pain and disability:

# %%
styled(params.class_table(), digits=2)

# %% [markdown]
# Which course a patient follows depends on the condition (shares under usual care for an acute
# patient of average severity aged 50, below) and on prognostic factors the record holds:
# chronic symptoms, more severe symptoms and older age all make a persistent course more likely.
# Spinal stenosis is mostly persistent; pinched nerves in the neck mostly settle.

# %%
styled(params.membership(), digits=3)

# %% [markdown]
# **Care relative to natural history.** The *fit* of the pathway to the condition changes the
# odds of a persistent course and the pace within a course, by effects each with a plausible
# range (usual care, a *mismatched* programme, is natural history):
#
# - **matched** — the condition's own pathway: somewhat faster, a persistent course less likely;
# - **mismatched** — another routine programme: natural history;
# - **aggravating** — back-focused work for piriformis syndrome: symptoms rise for a few weeks and
#   a persistent course becomes more likely (the seed texts warn about exactly this);
# - **redirected** — an emergency referral that was not needed: a detour of some weeks, then the
#   primary condition's own pathway;
# - **harmful** — serious pathology left on a routine pathway: symptoms progress until the red
#   flags are recognised, and a lasting deficit becomes more likely with every week of delay.
#
# **Surgery** is offered to disc-herniation patients on the spinal pathway whose severe pain has
# not improved by the decision week (more often in a spine clinic than in primary care).
# **Relapses** are episodes of several weeks after a first recovery. Flare-ups (less frequent
# when the pathway fits) and week-to-week noise are added.
#
# **Combined presentations** (a secondary contributor, such as tight hamstrings beside a disc
# herniation) recover fully only when both parts are treated. *Perfect* triage treats both; the
# triage methods compared here (rules, learned models, the oracle) choose one pathway per
# patient.
#
# **Recovery** is defined in `recovery.toml`; patients who start at or below the absolute
# cut-off can recover only through the relative fall, so nobody counts as recovered just for
# starting low:

# %%
print(recovery.recovery_definition(params))

# %% [markdown]
# The table shows how every pathway fits every condition.

# %%
styled(recovery.fit_table())

# %% [markdown]
# ## 1 · How each condition runs its course, when triage is perfect
#
# Each curve is the share of patients **not yet recovered** week by week (Kaplan–Meier, with a 95%
# band); the numbers under the plot are the patients still being followed and not yet recovered.
# The line under the plot lists this run's medians, fastest first.

# %%
perfect = sims["perfect"].outcomes
ax = plots.km_curves(
    survival.kaplan_meier(perfect, by="condition"),
    title=captions.condition_title(perfect, "perfect"),
    at_risk_weeks=AT_RISK,
)
plt.show()
print(captions.condition_caption(perfect))

# %%
styled(captions.format_median_times(survival.median_times(perfect, by="condition")))

# %% [markdown]
# Which course each condition followed under the reference policy: the share of its patients in
# each trajectory class (the persistent classes are the patients still unwell at a year).

# %%
styled(pd.crosstab(reference["condition"], reference["trajectory_class"], normalize="index"), digits=2)

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
    title=captions.fit_title(reference, REFERENCE),
    at_risk_weeks=AT_RISK,
)
plt.show()
print(captions.fit_caption(reference, REFERENCE))

# %%
print(captions.format_median_times(survival.median_times(reference, by="fit")).to_string())
print()
fit_tests = survival.logrank(reference, by="fit", reference="matched")
print(captions.format_logrank(fit_tests).to_string(index=False))

# %% [markdown]
# ### Combined presentations: one problem treated, or both
#
# Pain left at the last visit, as a share of baseline pain, for patients with a secondary
# contributor and for everyone else, under each policy (same patients, same weeks seen). Only a
# policy that addresses the secondary part treats both problems.

# %%
styled(captions.format_combined_presentations(survival.combined_presentations(outcomes)))

# %% [markdown]
# ## 3 · Which triage policy gets patients better soonest?
#
# The same patients, the same random draws, different triage. *Perfect* sends everyone to the
# pathway of their true condition, and the secondary contributor to its own (the unreachable
# ideal); the *oracle* is the best single pathway possible from the recorded findings;
# *everyone_spinal* treats every leg or buttock pain as sciatica. (Log-rank p-values treat the
# policies as independent groups; because they share patients they are conservative. The
# paired bootstrap below is the primary comparison.)

# %%
ax = plots.km_curves(
    survival.kaplan_meier(outcomes, by="policy"),
    title=captions.policy_title(outcomes),
    at_risk_weeks=AT_RISK,
)
plt.show()

# %%
print(captions.format_median_times(survival.median_times(outcomes, by="policy")).to_string())
print()
policy_tests = survival.logrank(outcomes, by="policy", reference=REFERENCE)
print(captions.format_logrank(policy_tests).to_string(index=False))

# %% [markdown]
# ### Mean pain, week by week
#
# Average pain among the patients seen each week, with a 95% band. The sentence under the plot
# says when the policies differ most and how far apart they end.

# %%
pain_by_policy = survival.policy_trajectories({name: sim.visits for name, sim in sims.items()})
ax = plots.trajectory_bands(pain_by_policy, title=captions.trajectory_title(pain_by_policy))
plt.show()
print(captions.trajectory_caption(pain_by_policy))

# %% [markdown]
# ### Weeks of pain saved per 100 patients
#
# For every 100 patients triaged, how many fewer weeks do they spend before recovering than under
# the reference policy? It is 100 × the difference in mean weeks to recovery within follow-up
# (the area under each Kaplan–Meier curve up to the last week), with a 95% interval from a paired
# bootstrap over patients (seeded). Positive means the policy saves weeks of pain.

# %%
saved = survival.weeks_saved(outcomes, reference=REFERENCE, n_boot=N_BOOT, seed=SEED)
captions.format_weeks_saved(saved, REFERENCE)

# %%
ax = plots.bar_with_ci(
    list(saved.index),
    saved["saved_per_100"],
    saved["saved_lower"],
    saved["saved_upper"],
    xlabel=f"Weeks of pain saved per 100 patients vs {REFERENCE} (95% CI)",
    title=captions.weeks_saved_title(saved, REFERENCE),
)
plt.show()

# %% [markdown]
# ## 4 · Operations, relapses and lasting harm
#
# Triage changes more than weeks of pain. A disc herniation triaged away from the spinal pathway
# misses the surgical referral it might need; recovery can be lost again in a relapse; and for
# serious pathology (cauda equina and other red-flag conditions) what matters is the delay to
# emergency care, because the chance of a lasting deficit (bladder, bowel, motor) grows with it.
# Counts per policy on the same patients; the sentence under the table gives the spread.

# %%
events = survival.course_events(outcomes)
print(captions.course_events_caption(events))
styled(events, digits=2)

# %% [markdown]
# Every patient with serious pathology who is not referred as an emergency is an under-triaged
# emergency. A policy that looks good on average weeks saved can still be unsafe here: the
# oracle maximises *accuracy*, which is not safety — a safe policy has to weigh a missed
# emergency far above a wasted referral.

# %%
harm_table = survival.harms(outcomes)
print(captions.format_harms(harm_table).to_string())
print()
print(captions.harm_caption(harm_table))

# %% [markdown]
# ## 5 · The headline with its uncertainty
#
# Per 100 patients and per policy, against the reference: weeks of pain saved, operations, and
# lasting deficits avoided. Each number has two 95% intervals: **sampling** (a paired bootstrap
# over patients) and **parameters** (a probabilistic sensitivity analysis: every number of
# `recovery.toml` that states a plausible range is drawn jointly from it, `N_DRAWS` times, and the
# same patients are simulated again under every policy with the same random draws). It is run on
# the first `N_PSA` patients of the cohort, so its point estimates differ a little from the
# table above. Notebook 05 shows which parameters move the answer most.

# %%
subset = patients.head(N_PSA).reset_index(drop=True)
subset_policies = {name: plan.head(N_PSA).reset_index(drop=True) for name, plan in policies.items()}
headline = sensitivity.headline(
    subset, subset_policies, SEED, REFERENCE, n_boot=N_BOOT, n_draws=N_DRAWS, dropout=DROPOUT,
    workers=PSA_WORKERS, scheduler=PSA_SCHEDULER,
)
styled(format_headline_table(headline))

# %%
print(headline_caption(headline, REFERENCE))

# %% [markdown]
# ## Summary of this run
#
# The headline numbers, computed above (the HTML report shows them at the top of the page). The
# best *realistic* policy is chosen among those a service could run — not perfect triage, and not
# the oracle, which is the ceiling — and compared with the runner-up on the same patients.

# %% tags=["summary"]
captions.recovery_summary(outcomes, saved, REFERENCE, harm_table, n_boot=N_BOOT, seed=SEED)

# %% [markdown]
# ## What this shows, and what it does not
#
# - The course of each condition comes first: most patients recover whatever the pathway, and a
#   large minority stays unwell for a year on any pathway. Triage moves patients between those
#   courses only at the margin, which is why the weeks saved are modest per patient.
# - What triage does change is larger for some patients than for others: back-focused work for
#   piriformis syndrome, a disc herniation that misses its surgical referral, and above all serious
#   pathology left on a routine pathway, where the cost is a lasting deficit, not weeks.
# - The class shares, the surgical referral rates, the relapse rate and the deficit risk after
#   prompt decompression are fitted to published figures; the care effects are assumptions with
#   wide ranges. The parameter interval above says how much the headline rests on them; notebook
#   05 compares the model with published figures it was not fitted to, and names the misses.
