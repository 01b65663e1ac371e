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
# # 06 · Study design: how many patients must a validation study enrol?
#
# A team planning to validate a triage tool on its own patients has to choose how many to enrol.
# This notebook answers three versions of that question for the chosen setting:
#
# - **(a)** how many patients give an emergency-pathway sensitivity whose 95% interval is at most
#   ±5 points wide;
# - **(b)** how many patients detect a given accuracy difference between the rules and a model
#   with 80% power (paired on the same patients, McNemar's test);
# - **(c)** how many *training* patients a learned model needs before it overtakes the rules.
#
# (a) and (b) have closed forms (the binomial interval's width, Connor's McNemar sample size);
# each is shown beside a simulation of thousands of studies, and a test
# (`tests/test_sample_size.py`) checks that the two agree within simulation error. A pilot cohort
# from the generator supplies the inputs: how common emergencies are, how many the rules catch,
# and on how many patients the rules and a model disagree about being right. (c) is a simulation
# study (`outcomes.analysis.study`): replicates of generate → fit → evaluate at each training size, each
# with its own spawned seed; with `SCHEDULER` set it runs on that Dask cluster, with the same
# results.

# %% tags=["parameters"]
# Parameters (papermill overrides this cell)
SEED: int = 0
SETTING: str = "primary_care"
EXAM_MISSING_RATE: float | None = None  # share of exam signs unrecorded (None: setting's rate)
N_PILOT: int = 20000  # pilot cohort: prevalence, sensitivity and discordance
N_TRAIN: int = 5000  # training patients of the model compared with the rules in (b)
HALF_WIDTH: float = 0.05  # (a) target half-width of the 95% interval of emergency sensitivity
DELTA: float = 0.03  # (b) accuracy difference to detect (model minus rules)
POWER: float = 0.8  # (b) target power
ALPHA: float = 0.05  # (b) two-sided significance level
REPLICATES: int = 2000  # simulated studies per size in (a) and (b)
CURVE_SIZES: list[int] = [25, 50, 100, 200, 400]  # (c) training sizes
CURVE_REPLICATES: int = 2  # (c) replicates per training size
N_TEST_CURVE: int = 2000  # (c) held-out patients per replicate
SCHEDULER: str = ""  # (c) a Dask scheduler address; "" runs in this process

# %%
import tempfile

import matplotlib.pyplot as plt
import pandas as pd

from outcomes.analysis import sample_size as ss
from outcomes.analysis.study import parse_spec, read_study, run_study, summarise
from outcomes.engine.cohort import feature_columns, generate
from outcomes.faces import plots
from outcomes.infra.summary import Summary
from outcomes.triage.models import fit_model
from outcomes.triage.rules import RulesTriage

plots.use_style()
pd.set_option("display.width", 160)
overrides = {} if EXAM_MISSING_RATE is None else {"exam_missing_rate": EXAM_MISSING_RATE}

# %% [markdown]
# ## The pilot cohort
#
# The inputs every calculation needs, measured on a synthetic pilot cohort of the setting: the
# share of patients who need the emergency pathway, the share of those the rules send there, and
# how the rules and a logistic model (trained on `N_TRAIN` other patients) agree.

# %%
pilot = generate(N_PILOT, seed=SEED, setting=SETTING, **overrides)
train = generate(N_TRAIN, seed=SEED + 1, setting=SETTING, **overrides)
X = pilot[feature_columns()]
truth = pilot["pathway"].astype(str).to_numpy()
rules_right = RulesTriage().fit(X).predict(X) == truth
model_right = fit_model("logistic", train, seed=SEED).predict(X) == truth
emergency = truth == "emergency"
if not emergency.any():
    raise ValueError(f"the pilot of {N_PILOT} patients has no emergency: raise N_PILOT")
prevalence = emergency.mean()
sensitivity = rules_right[emergency].mean()
discordance = (rules_right != model_right).mean()
pd.DataFrame({
    "quantity": ["emergency prevalence", "rules' emergency sensitivity", "rules' accuracy",
                 "logistic accuracy", "discordant share (only one right)"],
    "value": [prevalence, sensitivity, rules_right.mean(), model_right.mean(), discordance],
}).round(4)

# %% [markdown]
# ## (a) Precision: the interval of emergency sensitivity
#
# With `m` emergencies the 95% interval of a sensitivity `p` has half-width about
# `1.96 · sqrt(p(1 − p)/m)`, and a study of `n` patients sees about `m = n · prevalence`. The
# simulation draws `REPLICATES` studies at each size (emergencies, then those the rules catch)
# and measures the spread of their estimates (the half-width an interval needs) and the mean
# half-width of the Wilson intervals they would report.

# %%
n_a = ss.n_for_halfwidth(sensitivity, prevalence, HALF_WIDTH)
sizes_a = ss.size_grid(max(50, n_a // 8), n_a * 3)
precision = ss.simulate_sensitivity(sensitivity, prevalence, sizes_a, replicates=REPLICATES,
                                    seed=SEED, target=HALF_WIDTH)
print(f"closed form: {n_a:,} patients ({n_a * prevalence:,.0f} emergencies expected)")
print(f"simulated: smallest size tried with mean Wilson half-width <= {HALF_WIDTH:g}: "
      f"{ss.first_size(precision, 'wilson_mean', HALF_WIDTH, below=True):,}")
precision.round(4)

# %%
ax = ss.plot_against_n(precision, HALF_WIDTH, n_a, ylabel="half-width of the 95% interval",
                       simulated_label="simulated (1.96 x SD of estimates)", extra="wilson_mean",
                       extra_label="simulated mean Wilson half-width")
ax.set_title("(a) Emergency sensitivity: interval half-width against study size")
plt.show()

# %% [markdown]
# ## (b) Power: a paired comparison of the rules and a model
#
# Both methods triage the same patients, so the comparison is paired: McNemar's test looks only
# at patients on whom exactly one method is right. With the pilot's discordant share `ψ` and a
# difference `δ = DELTA`, Connor's formula gives the power at each size; the simulation draws
# `REPLICATES` studies and applies the exact McNemar test (the one
# `outcomes.analysis.evaluate.compare_paired` reports). The exact test is slightly conservative, so at
# small sizes its power sits a little below the normal approximation's.

# %%
n_b = ss.mcnemar_n(DELTA, discordance, POWER, ALPHA)
sizes_b = ss.size_grid(max(50, n_b // 8), n_b * 3)
power = ss.simulate_mcnemar(DELTA, discordance, sizes_b, replicates=REPLICATES, alpha=ALPHA,
                            seed=SEED)
print(f"closed form: {n_b:,} patients for {POWER:.0%} power to detect {DELTA:+.3f} "
      f"(discordant share {discordance:.3f})")
print(f"simulated: smallest size tried with power >= {POWER:g}: "
      f"{ss.first_size(power, 'simulated', POWER, below=False):,}")
power.round(4)

# %%
ax = ss.plot_against_n(power, POWER, n_b, ylabel="power (two-sided 5%)",
                       simulated_label="simulated (exact McNemar)")
ax.set_title(f"(b) Power to detect an accuracy difference of {DELTA:.2f}")
plt.show()

# %% [markdown]
# ## (c) Training size: where the learned model overtakes the rules
#
# A simulation study (`outcomes.analysis.study`): at each training size, `CURVE_REPLICATES` replicates
# each draw a training cohort and `N_TEST_CURVE` held-out patients with their own spawned seeds,
# fit the logistic model and evaluate it beside the rules on the same patients. The same spec
# runs unchanged with `outcomes study --spec ... --scheduler ADDRESS` on a cluster, with more
# replicates.

# %%
spec = parse_spec({
    "study": {"replicates": CURVE_REPLICATES, "seed": SEED, "methods": ["rules", "logistic"]},
    "grid": {"n_train": CURVE_SIZES, "n_test": [N_TEST_CURVE], "setting": [SETTING],
             "exam_missing_rate": [EXAM_MISSING_RATE if EXAM_MISSING_RATE is not None
                                   else "default"]},
})
with tempfile.TemporaryDirectory() as folder:
    run_study(spec, f"{folder}/study", scheduler=SCHEDULER or None, local=not SCHEDULER,
              progress=False)
    results = read_study(f"{folder}/study")
curve = summarise(results, "accuracy")[["n_train", "method", "mean", "sd", "replicates"]]
crossing = ss.overtaking_size(curve, "logistic")
print(f"the logistic model overtakes the rules at n_train = "
      f"{'never (in this grid)' if crossing is None else f'{crossing:,}'}")
curve.round(4)

# %%
ax = ss.plot_learning_curve(curve, crossing)
ax.set_title("(c) Accuracy against training size")
plt.show()

# %% [markdown]
# ## Summary of this run

# %% tags=["summary"]
Summary("How many patients to enrol", ss.design_findings(
    HALF_WIDTH, n_a, prevalence, sensitivity, DELTA, POWER, n_b, crossing))

# %% [markdown]
# ## Limits
#
# - The inputs come from a synthetic pilot: a real study should plan with its own setting's
#   prevalence and the sensitivity it expects, and re-run this notebook with them.
# - (a) sizes the interval of one sensitivity; a study reporting several pathways needs the
#   largest of their sizes (the rarest pathway decides).
# - (b) assumes the discordant share measured in the pilot; a model closer to the rules disagrees
#   less and needs fewer patients for the same difference, one that disagrees more needs more.
# - (c) uses few replicates by default (raise `CURVE_REPLICATES`, or run it as a study on a
#   cluster); its error bars are the spread over replicates.
