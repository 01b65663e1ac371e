"""Triage methods: the explainable rules, the exact Bayes oracle, learned scikit-learn models,
cost-based decisions and out-of-core scoring. One contract (fit / predict / predict_proba)."""
