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
TEST_SETTING: str | None = None  # setting for the shift analysis (None: another, see below)
EXAM_MISSING_RATE: float | None = None  # share of exam signs unrecorded (None: setting's rate)
SHIFT_MISSING_RATE: float = 0.9  # exam signs unrecorded in the shift analysis
N_BOOT: int = 400

# %%
import matplotlib.pyplot as plt
import pandas as pd
import sklearn

from outcomes.analysis import evaluate as ev
from outcomes.analysis.discrimination import radicular_discrimination
from outcomes.analysis.targets import load_targets
from outcomes.captions import evaluation as captions
from outcomes.captions.formatting import styled
from outcomes.engine.cohort import feature_columns, generate
from outcomes.faces import plots
from outcomes.infra.summary import Summary
from outcomes.triage.decision import MinimumCostClassifier
from outcomes.triage.models import fit_model
from outcomes.triage.oracle import BayesOracle
from outcomes.triage.rules import RulesTriage, explain_misses, rules_table

plots.use_style()
sklearn.set_config(display="text")
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 12)
pd.set_option("display.max_colwidth", 70)

# %%
# The test patients are notebook 01's and 03's cohort (same N, SEED, SETTING); training uses
# another seed, so no test patient is a training patient.
test = generate(N, seed=SEED, setting=SETTING, exam_missing_rate=EXAM_MISSING_RATE)
train = generate(N_TRAIN, seed=SEED + 1, setting=SETTING, exam_missing_rate=EXAM_MISSING_RATE)
truth = test["pathway"].astype(str)
print(f"training cohort: {len(train):,} patients (seed {SEED + 1}); held-out test cohort: "
      f"{len(test):,} patients (seed {SEED}, the cohort of notebooks 01 and 03); "
      f"setting '{SETTING}'")

# %% [markdown]
# ## The methods
#
# The rules are read top to bottom; the first whose conditions hold assigns its pathway. A rule
# whose finding was **not recorded** does not fire (a missing exam is never read as positive), and
# the explanation says so. Where the rules depart from a literal reading of the clinical pattern
# (two hip provocations, not one; no pain below the knee for the hamstring rule), the rules file
# says why.

# %%
styled(rules_table()[["order", "rule", "pathway", "description"]])

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
# Accuracy, balanced accuracy and macro-F1 have percentile-bootstrap intervals over test patients
# (seeded; each method's replicates are drawn from its own confusion matrix, so the intervals are
# not paired across methods: section 4 compares methods on the same patients); per-pathway
# sensitivities, a share of a known number of patients, have Wilson intervals. Sensitivity is the share of patients who belong on a
# pathway and are sent there.

# %%
metrics = ev.evaluate_methods(predictions, test, n_boot=N_BOOT, seed=SEED)
styled(captions.format_metric_table(metrics, ["accuracy", "balanced_accuracy", "macro_f1",
                                        "sensitivity"]))

# %%
ax = plots.metric_forest(
    metrics, "sensitivity", xlabel="Sensitivity (95% CI)",
    title=captions.sensitivity_caption(metrics, focus="rules", reference="oracle", short=True))
plt.show()

# %% [markdown]
# ## 2 · Where the calls go: confusion matrices
#
# Each row is a true pathway; the cells show where its patients were sent (% of the row, with its
# Wilson 95% interval underneath). Each panel's title gives the method's accuracy and its
# commonest wrong call.

# %%
axes = plots.confusion_grid(ev.confusion_by_method(truth, predictions))
plt.show()

# %% [markdown]
# ## 3 · Red-flag safety
#
# Accuracy treats every error alike; a missed emergency is not alike. The table counts emergencies
# missed (serious pathology sent down a routine pathway), those missed although a red flag was
# recorded, over-triage (routine patients sent for emergency assessment), and the mean
# cost-weighted error per patient under `knowledge/costs.toml`. The last two rows make the
# **oracle** and the **boosted** model decide by least expected cost instead of highest
# probability: the threshold comes from the stated costs, not from this test set.
#
# The test patients are the cohort notebook 03 simulates (same `N`, `SEED`, `SETTING`), so the
# number of emergencies is the same there. Its policies differ in one way: notebook 03 trains
# its learned policies on a cohort as large as the one it triages (`N` patients), not on
# `N_TRAIN`, so with the defaults its logistic and boosted policies miss more emergencies than
# the models here.

# %%
safe_methods = {
    **predictions,
    "oracle, least cost": MinimumCostClassifier(BayesOracle()).fit(train).predict(test),
    "boosted, least cost": MinimumCostClassifier(boosted).fit(
        train[feature_columns()], train["pathway"].astype(str)).predict(test[feature_columns()]),
}
safety = ev.safety_by_method(safe_methods, test, n_boot=N_BOOT, seed=SEED)
least_cost = {"oracle": "oracle, least cost", "boosted": "boosted, least cost"}
safety_text = captions.safety_sentences(safety, least_cost)
print("\n".join(f"- {line}" for line in safety_text))
styled(captions.format_safety_table(safety))

# %% [markdown]
# ## 4 · Paired comparisons and the gap to the oracle
#
# The same patients are triaged by every method, so methods are compared pairwise: McNemar's exact
# test on the patients where exactly one of the two is right, and the difference in accuracy with a
# paired-bootstrap interval. The gap to the oracle is each method's accuracy as a fraction of the
# best achievable on these patients. The ceiling is below 1 because the records overlap as real ones
# do (a shared pain-sensitivity factor, examiner and reporting error, a straight-leg raise that
# follows severity; see notebook 01). It stays high because the hardest distinction, radicular
# against somatic referred leg pain, does not change the pathway: both go to spinal care. The next
# table measures that distinction itself.

# %%
pairs = [("logistic", "rules"), ("boosted", "rules"), ("boosted", "logistic"),
         ("oracle", "boosted")]
paired = ev.paired_comparisons(truth, predictions, pairs, n_boot=N_BOOT, seed=SEED)
styled(paired)

# %%
gap = ev.oracle_gap(truth, predictions, n_boot=N_BOOT, seed=SEED)
print(captions.oracle_gap_caption(gap))
styled(gap)

# %% [markdown]
# ### Radicular pain against its mimics, beside the published figure
#
# The spinal pathway takes radicular pain (disc herniation, stenosis) and somatic referred leg
# pain alike, so triage accuracy does not show how well the records tell radicular pain from the
# rest. Here each learned model's own pipeline is refitted to that yes/no question on training
# patients, and the oracle scores its posterior; their AUCs on the test patients with leg pain
# stand beside the published multivariable model of history and examination (Vroomen et al.
# 2002, AUC 0.83), whose patients were referred to a hospital clinic: so these cohorts are
# spine-clinic ones of the same sizes and seeds. A learned model near the published figure, and
# the oracle not far above it, is what realistic records should give.

# %%
published = next(t for t in load_targets() if t.name == "radicular_auc_history_exam")
clinic_train = generate(N_TRAIN, seed=SEED + 1, setting="spine_clinic")
clinic_test = generate(N, seed=SEED, setting="spine_clinic")
discrimination = radicular_discrimination(clinic_train, clinic_test, seed=SEED)
discrimination_text = captions.discrimination_caption(
    discrimination, published.target, published.low, published.high, "Vroomen et al. 2002")
print(discrimination_text)
styled(discrimination)

# %% [markdown]
# ## 5 · Can the probabilities be trusted?
#
# For each pathway (one-vs-rest, emergency first) the patients are binned by predicted
# probability, finely near 0 and 1 where most of them are; a calibrated method's points lie on the
# diagonal. Each bin is also tested: do the patients who truly belong to the pathway match the
# number the probabilities promise, within binomial sampling error (exact test at the 1-in-10,000
# level per bin)? The rules give no probabilities (a one-hot vote), so only the learned models and
# the oracle are shown.

# %%
probabilities = {name: ev.probabilities_of(methods[name], test)
                 for name in ["logistic", "boosted", "oracle"]}
checks = {name: ev.calibration_check(truth, proba, classes)
          for name, (proba, classes) in probabilities.items()}
fig, axes = plt.subplots(1, 3, figsize=(14, 4.4), constrained_layout=True)
for ax, (name, (proba, classes)) in zip(axes, probabilities.items(), strict=True):
    table = ev.calibration_table(truth, proba, classes, n_bins=ev.RELIABILITY_EDGES)
    plots.reliability_plot(table, ax=ax,
                           title=captions.calibration_caption(checks[name], name, short=True))
plt.show()
calibration_text = [captions.calibration_caption(check, name) for name, check in checks.items()]
print("\n".join(f"- {line}" for line in calibration_text))

# %% [markdown]
# Brier scores (mean squared error of the probabilities, lower is better) with 95% bootstrap
# intervals; the rules' one-hot votes are scored as probabilities of 0 and 1.

# %%
brier = ev.brier_table(methods, test, n_boot=N_BOOT, seed=SEED)
styled(captions.format_brier_table(brier))

# %% [markdown]
# ### Decision curves: is acting on a method's probabilities worth it?
#
# Accuracy and calibration do not say whether a referral decision made from a method does more
# good than harm. **Net benefit** (Vickers & Elkin, 2006) counts the patients rightly referred
# per patient, minus those referred needlessly, weighted by the odds of the threshold
# probability at which a clinician would refer: at a threshold of 6%, one needless referral is
# worth about 1/16 of a right one. Each panel is one pathway, one-vs-rest, emergency first. A
# method is worth using at the thresholds where its curve lies above both **refer all** (grey
# dashed) and **refer none** (the zero line). The rules give hard calls (probabilities of 0 and
# 1). The dotted line marks the emergency threshold the stated costs imply
# (`knowledge/costs.toml`: an unneeded referral costs 3, a missed emergency 50, so 3/53).

# %%
decision = {"rules": ev.one_hot(predictions["rules"], probabilities["oracle"][1]), **probabilities}
curves = ev.decision_curves(truth, decision)
emergency_threshold = ev.cost_threshold("emergency")
axes = plots.decision_curve_grid(curves, mark={"emergency": emergency_threshold})
plt.show()
decision_text = captions.decision_curve_caption(curves, "emergency", round(emergency_threshold, 2))
print(decision_text)

# %% [markdown]
# ## 6 · How many training patients does a model need?
#
# The boosted model is trained on the first *n* training patients for growing *n* and tested on
# the same held-out patients as the rules. Where the paired interval of the difference includes
# zero, the two are **not distinguishable** at this test size (which is not proof that they are
# equal); the model **beats** the rules once the interval lies above zero.

# %%
sizes = [s for s in (50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000) if s <= N_TRAIN]
curve = ev.learning_curve(lambda d: fit_model("boosted", d, seed=SEED), train, test, sizes,
                          predictions["rules"], n_boot=N_BOOT, seed=SEED)
cross = ev.crossover(curve)
oracle_acc = ev.estimate_of(metrics, "oracle")[0]
curve_text = [captions.learning_curve_caption(curve), captions.oracle_share_caption(curve, oracle_acc)]
print("\n".join(f"- {line}" for line in curve_text))
styled(curve)

# %%
ax = plots.learning_curve_plot(curve.assign(model="boosted"), ev.estimate_of(metrics, "rules"),
                               ceiling=oracle_acc, title=captions.learning_curve_caption(curve, short=True))
plt.show()

# %% [markdown]
# ## 7 · Shift: another setting, sparser records
#
# The models were trained in one setting. Here every method triages (a) a cohort from another
# setting (`TEST_SETTING`, by default the last of the other settings in the knowledge's list; never
# `SETTING` itself), whose case mix differs, and (b) **the same test patients** with every exam finding
# unrecorded at the rate `SHIFT_MISSING_RATE` (by default 90%, above the rate at which any setting
# leaves a sign unrecorded). Each cell gives the accuracy and its change from the in-setting
# test cohort: for (b) a paired difference over the same patients, for (a) the difference between
# two independent cohorts. The oracle knows each cohort's own case mix and missingness, so it shows
# what was still achievable.

# %%
in_setting = f"{SETTING} (as trained)"
other_setting = ev.shift_setting(SETTING, TEST_SETTING)  # never SETTING itself
shifted = {in_setting: test}
if other_setting is None:
    print(f"TEST_SETTING is the training setting ({SETTING}): no setting shift to measure, "
          "so only the sparser records are compared.")
else:
    print(f"Another setting: {other_setting} (trained in {SETTING}).")
    shifted[other_setting] = generate(N, seed=SEED + 2, setting=other_setting,
                                      exam_missing_rate=EXAM_MISSING_RATE)
shifted[f"{SETTING}, {SHIFT_MISSING_RATE:.0%} exams unrecorded"] = generate(
    N, seed=SEED, setting=SETTING, exam_missing_rate=SHIFT_MISSING_RATE)
shift = ev.shift_table(methods, shifted, reference=in_setting, n_boot=N_BOOT, seed=SEED)
shift_text = captions.shift_sentences(shift)
print("\n".join(f"- {line}" for line in shift_text))
styled(captions.format_shift_table(shift))

# %% [markdown]
# ## 8 · Why the rules got some patients wrong
#
# The rules' own explanation for five misclassified test patients: the rule that fired, the
# recorded findings it fired on, and earlier rules that could not fire because a finding they need
# was not recorded.

# %%
styled(explain_misses(rules, test, n=5, seed=SEED))

# %% [markdown]
# ## Summary of this run
#
# The headline numbers, computed above (the HTML report shows them at the top of the page).

# %% tags=["summary"]
captions.triage_summary(metrics, safety[safety["method"].isin(list(predictions))], gap,
                  crossover_size=cross["beats"], title=f"Triage of {N:,} {SETTING.replace('_', ' ')} patients")

# %% [markdown]
# ## What this shows
#
# Each sentence below is computed from this run's tables, so it stays true when the parameters
# change.

# %%
Summary("What this run shows", [
    captions.sensitivity_caption(metrics, focus="rules", reference="oracle") + ".",
    discrimination_text,
    *curve_text,
    *captions.safety_sentences(safety, least_cost, methods=["rules", "boosted", "oracle"]),
    *calibration_text,
    decision_text,
    *shift_text,
])

# %% [markdown]
# These are synthetic patients from `src/outcomes/knowledge/`; the numbers show how the methods
# behave under those assumptions, not how they would perform on real records. Notebook 04 applies
# the same evaluation to a team's own data.
