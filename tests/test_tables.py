"""styled(): formatted, stable HTML tables with readable headers and p-values."""

from __future__ import annotations

import pandas as pd

from outcomes.captions.formatting import styled


def _table():
    return pd.DataFrame({
        "method_a": ["rules", "boosted"], "accuracy_a": [0.81234, 0.9],
        "p_value": [0.00004, 0.2512], "n": [12000, 40],
        "description": ["x" * 120, "a rule whose text is long and must not be cut"],
    })  # fmt: skip


def test_styled_tables_read_well_and_leave_the_input_alone():
    table = _table()
    before = table.copy()
    page = styled(table).to_html()
    pd.testing.assert_frame_equal(table, before)
    assert "<0.001" in page.replace("&lt;", "<") and "0.0000" not in page
    assert "0.251" in page and "0.812" in page and "12,000" in page
    assert "Method a" in page and "P value" in page and "p_value" not in page
    assert "x" * 120 in page  # never truncated
    assert 'class="row_heading' not in page  # no 0..n index beside the data
    text = repr(styled(table))
    assert "<0.001" in text and "12,000" in text and "0.812" in text


def test_styled_html_is_byte_stable_and_keeps_a_meaningful_index():
    assert styled(_table()).to_html() == styled(_table()).to_html()
    wide = _table().set_index("method_a")
    page = styled(wide, labels={"accuracy_a": "accuracy (your triage)"}).to_html()
    assert "rules" in page and "Accuracy (your triage)" not in page
    assert "accuracy (your triage)" in page


def test_every_result_table_of_the_suite_styles_with_unique_headers():
    # The learning curve has both "low" and "diff_low": their headers must not collide.
    curve = pd.DataFrame({"size": [100], "accuracy": [0.8], "low": [0.7], "high": [0.9],
                          "difference": [0.01], "diff_low": [-0.02], "diff_high": [0.04],
                          "verdict": ["not distinguishable"]})  # fmt: skip
    page = styled(curve).to_html()
    assert "Difference 95% CI low" in page and "95% CI low" in page
    clash = pd.DataFrame({"low": [1.0], "x": [2.0]})
    assert "low" in repr(styled(clash, labels={"x": "95% CI low"}))
