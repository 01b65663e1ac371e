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
# # 04 · Evaluate your own triage
#
# Teams have their own records: patients with their findings, the pathway their clinicians (or
# their tool) chose, and the confirmed pathway. This notebook evaluates those calls exactly as
# notebook 02 evaluates the rules and the models, and sets them beside the **rules** and a
# **boosted** model trained on a synthetic cohort of the same setting.
#
# Point `DATA` and `PREDICTIONS` at your files (CSV or Parquet; relative paths are taken from the
# project folder). `outcomes template --out my_patients.csv` writes a file with the expected
# columns, described in `docs/data_dictionary.md`. The defaults are demo files in
# `data/synthetic/`: 400 synthetic primary-care patients and the calls of imaginary clinicians
# whose judgement is sound but noisy: they say how sure they are of each pathway (a probability
# per pathway, somewhat over-confident, as real teams often are) and call the most probable one. Every file is checked first; a
# problem stops the notebook with a message naming the column and the rows.

# %% tags=["parameters"]
# Parameters (papermill overrides this cell)
DATA: str = "data/synthetic/demo_patients.csv"
PREDICTIONS: str = "data/synthetic/demo_predictions.csv"
N_TRAIN: int = 20000  # synthetic patients to train the comparison model on
SEED: int = 0
N_BOOT: int = 1000

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from outcomes.analysis import evaluate as ev
from outcomes.analysis.userdata import compare_calls, read_patients, read_predictions
from outcomes.captions import evaluation as captions
from outcomes.captions.formatting import styled
from outcomes.faces import plots
from outcomes.infra.paths import resolve

plots.use_style()
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 12)

# %%
patients = read_patients(resolve(DATA), require_truth=True)
calls = read_predictions(resolve(PREDICTIONS), patients)
recorded = patients.filter(like="exam_").notna().to_numpy().mean()
print(f"{len(patients):,} patients in {resolve(DATA).name}, each with a call in "
      f"{resolve(PREDICTIONS).name}")
print("settings:", ", ".join(f"{s} ({n})" for s, n in
                             patients["setting"].value_counts().items() if n))
print(f"exam findings recorded: {recorded:.0%}; probabilities given: "
      f"{'yes' if calls.shape[1] > 1 else 'no'}")

# %% [markdown]
# ## 1 · Accuracy, with 95% intervals
#
# The same patients for all three methods. Accuracy, balanced accuracy and macro-F1 have
# percentile-bootstrap intervals (seeded; each method's own, not paired across methods: section 4
# compares methods patient by patient); per-pathway sensitivities have Wilson intervals.
# The model triages the patients in batches, so a file of millions of patients fits in memory.

# %%
predictions = compare_calls(patients, calls, n_train=N_TRAIN, seed=SEED)
truth = patients["pathway"].astype(str)
metrics = ev.evaluate_methods(predictions, patients, n_boot=N_BOOT, seed=SEED)
styled(captions.format_metric_table(metrics, ["accuracy", "balanced_accuracy", "macro_f1",
                                        "sensitivity"]))

# %%
ax = plots.metric_forest(metrics, "sensitivity", xlabel="Sensitivity (95% CI)",
                         title=captions.sensitivity_caption(metrics, focus="your triage",
                                                      reference="boosted (synthetic)", short=True))
plt.show()

# %% [markdown]
# ## 2 · Where the calls go
#
# Each row is a confirmed pathway; the cells show where its patients were sent (% of the row, with
# its Wilson 95% interval underneath). Each panel's title gives the method's accuracy and its
# commonest wrong call.

# %%
axes = plots.confusion_grid(ev.confusion_by_method(truth, predictions))
plt.show()

# %% [markdown]
# ## 3 · Red-flag safety
#
# Emergencies missed (serious pathology sent down a routine pathway), missed although a red flag
# was recorded, over-triage to emergency, and the mean cost-weighted error per patient under
# `src/outcomes/knowledge/costs.toml`.

# %%
safety = ev.safety_by_method(predictions, patients, n_boot=N_BOOT, seed=SEED)
styled(captions.format_safety_table(safety))

# %% [markdown]
# ## 4 · Your calls against the rules and the model, patient by patient
#
# McNemar's exact test on the patients where exactly one of the two methods is right, and the
# paired difference in accuracy with its interval.

# %%
pairs = [("your triage", "rules"), ("your triage", "boosted (synthetic)")]
paired = ev.paired_comparisons(truth, predictions, pairs, n_boot=N_BOOT, seed=SEED)
styled(paired)

# %% [markdown]
# ## 5 · Calibration (only if your file gives probabilities)
#
# With `p_<pathway>` columns in the predictions file, the reliability of those probabilities is
# shown one-vs-rest per pathway.

# %%
probability_columns = [c for c in calls.columns if c.startswith("p_")]
if probability_columns:
    classes = [c.removeprefix("p_") for c in probability_columns]
    proba = calls[probability_columns].to_numpy()
    table = ev.calibration_table(truth, proba, classes)
    check = ev.calibration_check(truth, proba, classes)
    ax = plots.reliability_plot(table, title=captions.calibration_caption(check, "your triage",
                                                                     short=True))
    plt.show()
    print(captions.calibration_caption(check, "your triage"))
    brier = ev.brier_table({"your triage": (proba, classes)}, patients, n_boot=N_BOOT, seed=SEED)
    display(styled(captions.format_brier_table(brier),
                   caption="Brier score (lower is better, 95% CI)"))
else:
    print("No probability columns (p_<pathway>) in the predictions file: calibration skipped.")

# %% [markdown]
# ## 6 · Decision curves (only if your file gives probabilities)
#
# Is referring on your team's probabilities worth it? **Net benefit** counts the patients
# rightly referred to a pathway per patient, minus those referred needlessly weighted by the
# odds of the threshold probability (Vickers & Elkin, 2006). One panel per pathway, one-vs-rest,
# emergency first; your probabilities against the rules' and the model's hard calls (0 or 1),
# **refer all** (grey dashed) and **refer none** (zero). Your probabilities are worth acting on
# where their curve lies above all of these. The dotted line marks the emergency threshold the
# stated costs imply (`knowledge/costs.toml`).

# %%
if probability_columns:
    decision = {"your triage": (proba, classes),
                **{name: ev.one_hot(calls_, classes) for name, calls_ in predictions.items()
                   if name != "your triage"}}
    curves = ev.decision_curves(truth, decision)
    emergency_threshold = ev.cost_threshold("emergency")
    axes = plots.decision_curve_grid(curves, mark={"emergency": emergency_threshold})
    plt.show()
    print(captions.decision_curve_caption(curves, "emergency", round(emergency_threshold, 2)))
else:
    print("No probability columns (p_<pathway>) in the predictions file: decision curves skipped.")

# %% [markdown]
# ## Summary of this run
#
# The headline numbers, computed above (the HTML report shows them at the top of the page).

# %% tags=["summary"]
captions.triage_summary(metrics, safety, title=f"Your triage of {len(patients):,} patients")

# %% [markdown]
# ## Reading the result
#
# - The intervals are wide when a pathway has few patients (emergencies especially): a difference
#   that looks large may not be distinguishable from chance; the paired test says.
# - The comparison model was trained on synthetic patients from `src/outcomes/knowledge/`; where it
#   beats your calls on your data, look at the confusion matrices for the pathways it gets right
#   and your team misses, not at the overall number alone.
# - Nothing leaves this machine: the files are read locally and no network call is made.
