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
# # 02 · Triage: explainable rules, learned models and the oracle
#
# A patient with leg or buttock pain has to be sent somewhere: emergency assessment, a spinal
# (nerve-root) programme, hip and gluteal work for piriformis syndrome, hamstring work, or the
# upper-limb nerve programme. This notebook compares four ways of making that call on the same
# held-out patients:
#
# - **rules** — the seed texts' differential diagnosis as an ordered, explainable decision list
#   (`src/outcomes/knowledge/triage_rules.toml`);
# - **logistic** and **boosted** — scikit-learn models trained on a synthetic cohort;
# - **oracle** — the exact Bayes posterior under the generator's own model: the ceiling.
#
# It asks how accurate each is (with 95% intervals), how safe it is for red flags, whether its
# probabilities can be trusted, how many training patients a model needs to beat the rules, and
# what happens when the setting or the completeness of the records changes.

# %% tags=["parameters"]
# Parameters (papermill overrides this cell)
N: int = 5000  # held-out test patients
N_TRAIN: int = 20000  # training patients for the learned models
SEED: int = 0
SETTING: str = "primary_care"
TEST_SETTING: str = "sports_clinic"  # another setting, for the shift analysis
EXAM_MISSING_RATE: float | None = None  # share of exam signs unrecorded (None: setting's rate)
SHIFT_MISSING_RATE: float = 0.8  # exam signs unrecorded in the shift analysis
N_BOOT: int = 400

# %%
import matplotlib.pyplot as plt
import pandas as pd
import sklearn

from outcomes import evaluate as ev
from outcomes import plots
from outcomes.cohort import feature_columns, generate
from outcomes.decision import MinimumCostClassifier
from outcomes.models import fit_model
from outcomes.oracle import BayesOracle
from outcomes.triage import RulesTriage, explain_misses, rules_table

plots.use_style()
sklearn.set_config(display="text")
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 12)
pd.set_option("display.max_colwidth", 70)

# %%
train = generate(N_TRAIN, seed=SEED, setting=SETTING, exam_missing_rate=EXAM_MISSING_RATE)
test = generate(N, seed=SEED + 1, setting=SETTING, exam_missing_rate=EXAM_MISSING_RATE)
truth = test["pathway"].astype(str)
print(f"training cohort: {len(train):,} patients; held-out test cohort: {len(test):,} patients "
      f"(setting '{SETTING}', different seeds)")

# %% [markdown]
# ## The methods
#
# The rules are read top to bottom; the first whose conditions hold assigns its pathway. A rule
# whose finding was **not recorded** does not fire (a missing exam is never read as positive), and
# the explanation says so.

# %%
rules_table()[["order", "rule", "pathway", "description"]]

# %%
rules = RulesTriage().fit(train[feature_columns()])
logistic = fit_model("logistic", train, seed=SEED)
boosted = fit_model("boosted", train, seed=SEED)
oracle = BayesOracle().fit(train)
methods = {"rules": rules, "logistic": logistic, "boosted": boosted, "oracle": oracle}
predictions = {name: ev.predictions_of(m, test) for name, m in methods.items()}
print("fitted:", ", ".join(methods))

# %% [markdown]
# ## 1 · Accuracy, with 95% intervals
#
# Every estimate has a percentile-bootstrap interval over test patients (seeded; the same
# replicates for every method). Sensitivity is the share of patients who belong on a pathway and
# are sent there.

# %%
metrics = ev.evaluate_methods(predictions, test, n_boot=N_BOOT, seed=SEED)
ev.format_metric_table(metrics, ["accuracy", "balanced_accuracy", "macro_f1", "sensitivity"])

# %%
ax = plots.metric_forest(
    metrics, "sensitivity", xlabel="Sensitivity (95% CI)",
    title="Rules send about half of hip and muscular patients elsewhere; models near the oracle",
)
plt.show()

# %% [markdown]
# ## 2 · Where the calls go: confusion matrices
#
# Each row is a true pathway; the cells show where its patients were sent (% of the row).

# %%
fig, axes = plt.subplots(1, 4, figsize=(15, 4.2), constrained_layout=True)
for ax, (name, predicted) in zip(axes, predictions.items(), strict=True):
    plots.confusion_matrix_plot(ev.confusion(truth, predicted, normalize=True), ax=ax, title=name)
    if ax is not axes[0]:
        ax.set_ylabel("")
plt.show()

# %% [markdown]
# ## 3 · Red-flag safety
#
# Accuracy treats every error alike; a missed emergency is not alike. The table counts emergencies
# missed (serious pathology sent down a routine pathway), those missed although a red flag was
# recorded, over-triage (routine patients sent for emergency assessment), and the mean
# cost-weighted error per patient under `knowledge/costs.toml` (a missed emergency costs 50 times
# a wrong routine programme). The last two rows make the **oracle** and the **boosted** model
# decide by least expected cost instead of highest probability: the threshold comes from the
# stated costs, not from this test set.

# %%
safe_methods = {
    **predictions,
    "oracle, least cost": MinimumCostClassifier(BayesOracle()).fit(train).predict(test),
    "boosted, least cost": MinimumCostClassifier(boosted).fit(
        train[feature_columns()], train["pathway"].astype(str)).predict(test[feature_columns()]),
}
safety = ev.safety_by_method(safe_methods, test, n_boot=N_BOOT, seed=SEED)
ev.format_safety_table(safety)

# %% [markdown]
# ## 4 · Paired comparisons and the gap to the oracle
#
# The same patients are triaged by every method, so methods are compared pairwise: McNemar's exact
# test on the patients where exactly one of the two is right, and the difference in accuracy with a
# paired-bootstrap interval. The gap to the oracle is each method's accuracy as a fraction of the
# best achievable on these patients.

# %%
pairs = [("logistic", "rules"), ("boosted", "rules"), ("boosted", "logistic"),
         ("oracle", "boosted")]
paired = ev.paired_comparisons(truth, predictions, pairs, n_boot=N_BOOT, seed=SEED)
paired.round({"accuracy_a": 3, "accuracy_b": 3, "difference": 3, "low": 3, "high": 3,
              "p_value": 4})

# %%
gap = ev.oracle_gap(truth, predictions, n_boot=N_BOOT, seed=SEED)
gap.round(3)

# %% [markdown]
# ## 5 · Can the probabilities be trusted?
#
# For each pathway (one-vs-rest) the patients are binned by predicted probability; a calibrated
# method's points lie on the diagonal. The rules give no probabilities (a one-hot vote), so only
# the learned models and the oracle are shown.

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4.4), constrained_layout=True)
for ax, name in zip(axes, ["logistic", "boosted", "oracle"], strict=True):
    model = methods[name]
    table = ev.calibration_table(truth, model.predict_proba(test[feature_columns()]),
                                 list(model.classes_))
    plots.reliability_plot(table, ax=ax, title=f"{name}: reliability by pathway")
plt.show()

# %%
brier = pd.concat(
    [ev.brier_scores(truth, methods[name].predict_proba(test[feature_columns()]),
                     list(methods[name].classes_)).assign(method=name)
     for name in ["rules", "logistic", "boosted", "oracle"]]
)
brier.pivot(index="pathway", columns="method", values="brier").loc[
    list(dict.fromkeys(brier["pathway"])), ["rules", "logistic", "boosted", "oracle"]
].round(4)

# %% [markdown]
# ## 6 · How many training patients does a model need?
#
# The boosted model is trained on the first *n* training patients for growing *n* and tested on
# the same held-out patients as the rules. It **matches** the rules once the paired difference's
# interval reaches zero, and **beats** them once the interval lies above zero.

# %%
sizes = [s for s in (50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000) if s <= N_TRAIN]
curve = ev.learning_curve(lambda d: fit_model("boosted", d, seed=SEED), train, test, sizes,
                          predictions["rules"], n_boot=N_BOOT, seed=SEED)
cross = ev.crossover(curve)
print(f"boosted matches the rules from {cross['matches']} and beats them from {cross['beats']} "
      "training patients")
curve.round(3)

# %%
rules_acc = ev.metric_table(truth, predictions["rules"], n_boot=N_BOOT, seed=SEED).iloc[0]
oracle_acc = (predictions["oracle"] == truth.to_numpy()).mean()
ax = plots.learning_curve_plot(
    curve.assign(model="boosted"), (rules_acc.estimate, rules_acc.low, rules_acc.high),
    ceiling=oracle_acc,
    title=(f"The boosted model beats the rules from {cross['beats']:,} training patients"
           if cross["beats"] else "The boosted model did not beat the rules at these sizes"),
)
plt.show()

# %% [markdown]
# ## 7 · Shift: another setting, sparser records
#
# The models were trained in one setting. Here every method triages (a) a cohort from another
# setting, whose case mix differs, and (b) patients of the training setting whose exam findings
# are mostly unrecorded. The oracle knows each cohort's own case mix and missingness, so it shows
# what was still achievable.

# %%
shifted = {
    f"{SETTING} (as trained)": test,
    f"{TEST_SETTING}": generate(N, seed=SEED + 2, setting=TEST_SETTING),
    f"{SETTING}, {SHIFT_MISSING_RATE:.0%} exams unrecorded": generate(
        N, seed=SEED + 3, setting=SETTING, exam_missing_rate=SHIFT_MISSING_RATE),
}
shift = ev.shift_table(methods, shifted, n_boot=N_BOOT, seed=SEED)
shift.assign(accuracy=[f"{a:.3f} ({lo:.3f}–{hi:.3f})" for a, lo, hi in
                       zip(shift["accuracy"], shift["low"], shift["high"], strict=True)]
             ).pivot(index="cohort", columns="method", values="accuracy").loc[
    list(shifted), list(methods)]

# %% [markdown]
# ## 8 · Why the rules got some patients wrong
#
# The rules' own explanation for five misclassified test patients: the rule that fired, the
# recorded findings it fired on, and earlier rules that could not fire because a finding they need
# was not recorded.

# %%
explain_misses(rules, test, n=5, seed=SEED)

# %% [markdown]
# ## Summary of this run
#
# The headline numbers, computed above (the HTML report shows them at the top of the page).

# %% tags=["summary"]
ev.triage_summary(metrics, safety[safety["method"].isin(list(predictions))], gap,
                  crossover_size=cross["beats"], title=f"Triage of {N:,} {SETTING.replace('_', ' ')} patients")

# %% [markdown]
# ## What this shows, and what it does not
#
# - The rules are transparent and never miss an emergency whose red flag is recorded, but they
#   send most hip and muscular patients to the default spinal pathway: their patterns need several
#   findings that primary-care records often lack.
# - Learned models trained on a few thousand synthetic patients come within a few percent of the
#   oracle; more data adds little, because the remaining errors are records that genuinely look like
#   another condition.
# - Accuracy is not safety. The rules send every recorded red flag to emergency assessment, so
#   they miss only emergencies with no red flag on record, at the price of many unneeded
#   referrals. The learned models and even the oracle, which maximise accuracy, weigh a single red
#   flag against everything else and miss more emergencies, some with a red flag on record.
#   Deciding by the stated costs (least expected cost) recovers most of them with only a few more
#   referrals; a safe learned triage needs that decision rule, not just a better model.
# - These are synthetic patients from `src/outcomes/knowledge/`; the numbers show how the methods
#   behave under those assumptions, not how they would perform on real records. Notebook 04 applies
#   the same evaluation to a team's own data.
