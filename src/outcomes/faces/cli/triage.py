"""Subcommands that triage: ``triage`` (a method on a test cohort), ``explain`` (one patient)
and ``evaluate`` (a team's own calls on its own patients)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from outcomes.faces.cli.common import (
    MAX_N_BOOT,
    MAX_N_TRAIN,
    N_BOOT,
    N_TRAIN,
    SEED,
    CommandError,
    add_input_options,
    read_cohort,
)

TRIAGE_METHODS = ("rules", "logistic", "boosted", "oracle")


#: Triage methods that learn from --train (and so can be saved).
LEARNED_METHODS = ("logistic", "boosted")


def _add_triage(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "triage",
        help="evaluate a triage method on a test cohort: metric table with 95%% CIs",
        description="Fit a triage method (rules and the oracle learn nothing; logistic and "
        "boosted learn from --train) and print its metric table (accuracy, balanced accuracy, "
        "macro-F1, per-pathway sensitivity/specificity/PPV/NPV, with bootstrap 95% CIs) and "
        "red-flag safety on --test.",
        epilog="example: outcomes triage --model rules --test "
        "data/synthetic/default_cohort.parquet\n"
        "example: outcomes generate --n 20000 --seed 1 --out train.parquet && outcomes triage "
        "--model boosted --train train.parquet --test data/synthetic/default_cohort.parquet\n"
        "example: outcomes generate --n 200000 --seed 7 --chunk-size 50000 --out big/ && "
        "outcomes triage --engine dask --model rules --test big/",
    )
    p.add_argument("--model", choices=TRIAGE_METHODS, required=True, help="triage method")
    p.add_argument("--test", type=Path, required=True, help="patients to triage (with truth)")
    p.add_argument("--train", type=Path, default=None, help="training cohort (learned models)")
    p.add_argument(
        "--n-boot", type=N_BOOT, default=1000, help=f"bootstrap replicates (1 to {MAX_N_BOOT:,})"
    )
    p.add_argument("--seed", type=SEED, default=0, help="seed of the bootstrap and the model")
    p.add_argument("--out", type=Path, default=None, help="also write the tidy metric table")
    p.add_argument(
        "--save-model", type=Path, default=None, help="save the fitted model (skops format, .skops)"
    )
    p.add_argument(
        "--load-model",
        type=Path,
        default=None,
        help="a model saved with --save-model, not fitted on --train",
    )
    p.add_argument(
        "--engine",
        choices=("memory", "dask"),
        default="memory",
        help="memory (default) reads --test whole; dask scores a partitioned "
        "cohort (--test DIR/, from generate --out DIR/) partition by partition, "
        "in bounded memory, with the same tables",
    )
    p.add_argument(
        "--predictions",
        type=Path,
        default=None,
        metavar="DIR",
        help="--engine dask: folder for the assigned pathways (default: beside "
        "--test, DIR_MODEL_predictions)",
    )
    add_input_options(p)
    p.set_defaults(handler=_run_triage)


def _run_triage(args: argparse.Namespace) -> int:
    from outcomes.analysis import evaluate as ev
    from outcomes.captions import evaluation as captions
    from outcomes.engine.cohort import feature_columns
    from outcomes.infra.io import check_outputs

    check_outputs(
        {"--out": args.out, "--save-model": args.save_model},
        {"--test": args.test, "--train": args.train},
    )
    if args.out is not None:
        from outcomes.infra.io import check_destination

        check_destination(args.out)  # fails before any work
    if args.save_model is not None:
        if args.model not in LEARNED_METHODS:
            raise CommandError(
                f"--save-model: only a fitted logistic or boosted model can be saved; "
                f"--model {args.model} learns nothing to save"
            )
        if args.save_model.is_dir():
            raise CommandError(f"--save-model {args.save_model} is a folder, not a file")
        from outcomes.infra.io import check_writable

        check_writable(args.save_model)
    if args.load_model is not None and args.model not in LEARNED_METHODS:
        raise CommandError(f"--load-model: --model {args.model} learns nothing to load")
    if args.load_model is not None and args.train is not None:
        raise CommandError("give --train (fit a model) or --load-model (a saved one), not both")
    if args.engine == "dask":
        return _run_triage_dask(args)
    if args.predictions is not None:
        raise CommandError("--predictions writes the dask engine's predictions: add --engine dask")
    test = read_cohort(args.test, "test", args)
    if args.load_model is not None:
        from outcomes.triage.model_files import load_model

        method = load_model(args.load_model)
    elif args.model in LEARNED_METHODS:
        if args.train is None:
            raise CommandError(f"--model {args.model} needs --train (a cohort to learn from)")
        from outcomes.triage.models import fit_model

        training = read_cohort(args.train, "training", args)
        method = fit_model(args.model, training, seed=args.seed)
    elif args.model == "rules":
        from outcomes.triage.rules import RulesTriage

        method = RulesTriage().fit(test[feature_columns()])
    else:
        from outcomes.triage.oracle import BayesOracle

        method = BayesOracle().fit(test)
    predicted = ev.predictions_of(method, test)
    metrics = ev.metric_table(test["pathway"], predicted, n_boot=args.n_boot, seed=args.seed)
    safety = ev.safety_table(
        test["pathway"], predicted, patients=test, n_boot=args.n_boot, seed=args.seed
    )
    print(f"{args.model} on {len(test):,} patients of {args.test.name}\n")
    print(captions.format_metric_table(metrics.assign(method=args.model)).to_string())
    print()
    print(captions.format_safety_table(safety.assign(method=args.model)).T.to_string())
    if args.model != "rules":
        from outcomes.triage.rules import RulesTriage

        rules_pred = RulesTriage().fit(test[feature_columns()]).predict(test[feature_columns()])
        misses = ev.red_flag_misses(test["pathway"], predicted, test, rules_pred)
        warning = captions.red_flag_warning(args.model, misses)
        if warning is not None:
            print(f"\n{warning}")
    if args.out is not None:
        from outcomes.infra.io import write_table

        write_table(metrics.assign(method=args.model), args.out)
        print(f"\nwrote {args.out}")
    if args.save_model is not None:
        from outcomes.triage.model_files import save_model

        print(f"saved model to {save_model(method, args.save_model)}")
    return 0


def _run_triage_dask(args: argparse.Namespace) -> int:
    """``triage --engine dask``: a partitioned cohort scored out of core (analysis.scoring)."""
    from outcomes.analysis.scoring import fit_on_head, predictions_folder, score_partitioned
    from outcomes.captions import evaluation as captions
    from outcomes.engine.partitioned import is_partitioned, partition_paths

    if not is_partitioned(args.test):
        raise CommandError(
            f"--engine dask: --test {args.test} is not a partitioned cohort (a "
            "folder written by outcomes generate --out DIR/)"
        )
    partition_paths(args.test)  # an incomplete cohort fails before any work
    out = args.predictions or predictions_folder(args.test, args.model)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--predictions {out} is a file, not a folder")
    if args.load_model is not None:
        from outcomes.triage.model_files import load_model

        method = load_model(args.load_model)
    elif args.model in LEARNED_METHODS:
        if args.train is None:
            raise CommandError(
                f"--model {args.model} needs --train (a cohort to learn from) or --load-model"
            )
        from outcomes.triage.models import fit_model

        method = fit_model(args.model, read_cohort(args.train, "training"), seed=args.seed)
    else:
        method = fit_on_head(args.model, args.test)
    result = score_partitioned(
        args.test, method, predictions=out, n_boot=args.n_boot, seed=args.seed
    )
    print(f"{args.model} on {result.n:,} patients of {args.test.name} (dask, by partition)\n")
    print(captions.format_metric_table(result.metrics.assign(method=args.model)).to_string())
    print()
    print(captions.format_safety_table(result.safety.assign(method=args.model)).T.to_string())
    print(f"\nwrote predictions to {out}/")
    if args.out is not None:
        from outcomes.infra.io import write_table

        write_table(result.metrics.assign(method=args.model), args.out)
        print(f"wrote {args.out}")
    if args.save_model is not None:
        from outcomes.triage.model_files import save_model

        print(f"saved model to {save_model(method, args.save_model)}")
    return 0


def _add_explain(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        help="explain one patient's triage: the rule that fired, the oracle, a saved model",
        description="For one patient (a row of a cohort by id, or findings typed as JSON): "
        "which rule fired and on which recorded findings, the oracle's posterior over "
        "pathways and, with --model, a saved model's probabilities, side by side.",
        epilog="example: outcomes explain --cohort data/synthetic/default_cohort.parquet "
        "--id 20261122-00000007",
    )
    p.add_argument("--cohort", type=Path, default=None, help="patients file (.csv or .parquet)")
    p.add_argument("--id", default=None, help="patient_id of the row to explain (with --cohort)")
    p.add_argument(
        "--findings",
        default=None,
        help="the patient as a JSON object of column: value, or @FILE holding one (columns as "
        "in docs/data_dictionary.md; an exam sign or red flag left out is not recorded)",
    )
    p.add_argument("--model", type=Path, default=None, help="a model saved by outcomes triage")
    p.set_defaults(handler=_run_explain)


def _run_explain(args: argparse.Namespace) -> int:
    from outcomes.triage.explain import explain_patient, patient_from_findings, select_patient

    if (args.cohort is None) == (args.findings is None):
        raise CommandError("give either --cohort FILE --id ID, or --findings JSON")
    if args.cohort is not None:
        if args.id is None:
            raise CommandError("--cohort needs --id (the patient_id of the row to explain)")
        if not args.cohort.exists():
            raise CommandError(f"no such cohort file: {args.cohort}")
        from outcomes.analysis.userdata import read_patients
        from outcomes.engine.cohort import record_generated_with
        from outcomes.infra.io import read_metadata

        patients = read_patients(args.cohort)
        meta = read_metadata(args.cohort) if args.cohort.suffix.lower() == ".parquet" else {}
        if meta.get("generator") == "outcomes.cohort.generate":
            record_generated_with(patients, meta["setting"], meta.get("overrides") or {})
        patient = select_patient(patients, args.id)
    else:
        text = args.findings
        if text.startswith("@"):
            text = Path(text[1:]).read_text(encoding="utf-8")
        patient = patient_from_findings(text)
    model = None
    if args.model is not None:
        from outcomes.triage.model_files import load_model

        model = load_model(args.model)
    print(explain_patient(patient, model, model_name=args.model.stem if model else "model"))
    return 0


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate your own triage calls on your own patients, beside the rules and a model",
        description="Validate a team's patients file (with the confirmed pathway) and its "
        "triage calls, then print the metric table (95% CIs) and red-flag safety for the "
        "team's calls, the rules, and a boosted model trained on a synthetic cohort of the "
        "same setting; with p_<pathway> probabilities, also their Brier scores and "
        "calibration error. Files of millions of patients are read and triaged in bounded "
        "memory.",
        epilog="example: outcomes evaluate --data data/synthetic/demo_patients.csv "
        "--predictions data/synthetic/demo_predictions.csv --out metrics.csv",
    )
    p.add_argument("--data", type=Path, required=True, help="patients file (.csv or .parquet)")
    p.add_argument(
        "--predictions",
        type=Path,
        required=True,
        help="triage calls: patient_id, pathway[, p_<pathway> ...]",
    )
    p.add_argument(
        "--n-train",
        type=N_TRAIN,
        default=20_000,
        help=f"synthetic training patients (100 to {MAX_N_TRAIN:,})",
    )
    p.add_argument(
        "--n-boot", type=N_BOOT, default=1000, help=f"bootstrap replicates (1 to {MAX_N_BOOT:,})"
    )
    p.add_argument("--seed", type=SEED, default=0, help="seed of the model and the bootstrap")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="also write the tidy tables: OUT (metrics), OUT_safety (red-flag safety) and, "
        "with probabilities, OUT_brier (Brier score, calibration error) and OUT_reliability "
        "(observed against predicted, by bin; removed when a run has no probabilities, if "
        "outcomes wrote it and it is unchanged); e.g. metrics.csv, metrics_safety.csv",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="make a column that looks like a finding or red flag but matches none "
        "an error (it is a warning)",
    )
    p.set_defaults(handler=_run_evaluate)


def evaluate_outputs(out: Path, probabilities: bool) -> dict[str, Path]:
    """The files ``outcomes evaluate --out OUT`` writes, by table.

    Parameters
    ----------
    out
        The ``--out`` file (the metric table).
    probabilities
        Whether the team's calls carry probabilities (then the Brier and reliability tables
        are written too).

    Returns
    -------
    dict
        Table name (``metrics``, ``safety``, ``brier``, ``reliability``) -> file.

    Examples
    --------
    >>> {k: v.name for k, v in evaluate_outputs(Path("m.csv"), probabilities=False).items()}
    {'metrics': 'm.csv', 'safety': 'm_safety.csv'}
    """
    tables = ["metrics", "safety", *(["brier", "reliability"] if probabilities else [])]
    return {
        t: out if t == "metrics" else out.with_name(f"{out.stem}_{t}{out.suffix}") for t in tables
    }


def _run_evaluate(args: argparse.Namespace) -> int:
    from outcomes.analysis import evaluate as ev
    from outcomes.analysis.userdata import (
        PROBABILITY_PREFIX,
        compare_calls,
        probability_tables,
        read_patients,
        read_predictions,
        scoring_table,
    )
    from outcomes.captions import evaluation as captions
    from outcomes.engine.cohort import feature_columns
    from outcomes.infra.io import check_outputs, same_file

    if args.out is not None:
        from outcomes.infra.io import check_destination

        companions = evaluate_outputs(args.out, probabilities=True).items()
        outputs = {
            ("--out" if table == "metrics" else f"--out's {table} table"): path
            for table, path in companions
        }
        check_outputs(outputs, {"--data": args.data, "--predictions": args.predictions})
        for path in outputs.values():
            check_destination(path)  # a bad output name fails before any work
    if same_file(args.data, args.predictions):
        raise CommandError(
            f"--predictions {args.predictions} is the same file as --data: the "
            "predictions must be your triage's calls"
        )
    patients = read_patients(args.data, require_truth=True, strict=args.strict)
    predictions = read_predictions(args.predictions, patients)
    n, name = len(patients), args.data.name
    # Memory, for files of millions of patients: keep only what the next step reads.
    tables = {}
    probabilities = [c for c in predictions.columns if c.startswith(PROBABILITY_PREFIX)]
    if probabilities:
        brier, reliability = probability_tables(patients["pathway"], predictions)
        tables["brier"] = brier.assign(method="your triage")
        tables["reliability"] = reliability.assign(method="your triage")
        predictions = predictions.drop(columns=probabilities)
    for column in [c for c in patients.columns if c not in feature_columns() + ["pathway"]]:
        del patients[column]  # ids (matched already) and extra columns
    methods = compare_calls(patients, predictions, n_train=args.n_train, seed=args.seed)
    scored = scoring_table(patients)  # the same tables as from patients, in less memory
    del patients, predictions
    tables = {
        "metrics": ev.evaluate_methods(methods, scored, n_boot=args.n_boot, seed=args.seed),
        "safety": ev.safety_by_method(methods, scored, n_boot=args.n_boot, seed=args.seed),
        **tables,
    }
    print(f"{n:,} patients of {name}\n")
    print(captions.format_metric_table(tables["metrics"]).to_string())
    print()
    print(captions.format_safety_table(tables["safety"]).T.to_string())
    if probabilities:
        print("\nyour triage's probabilities (lower Brier score and calibration error are better):")
        print(tables["brier"].drop(columns="method").round(4).to_string(index=False))
    if args.out is not None:
        from outcomes.infra.io import write_tables

        paths = evaluate_outputs(args.out, probabilities=bool(probabilities))
        # Companions of an earlier run with probabilities go when this one has none.
        stale = [
            p
            for p in evaluate_outputs(args.out, probabilities=True).values()
            if p not in paths.values()
        ]
        written = write_tables(
            {paths[name]: table for name, table in tables.items()}, remove=stale, record=True
        )
        print(f"\nwrote {', '.join(str(p) for p in written)}")
        for kept in [p for p in stale if p.exists()]:
            print(
                f"kept {kept}: an earlier table's name, but outcomes cannot prove it wrote "
                "this file (or it was changed since), so it is not this run's",
                file=sys.stderr,
            )
    return 0


#: The subcommands of this module, by name.
SUBCOMMANDS = {"triage": _add_triage, "explain": _add_explain, "evaluate": _add_evaluate}
