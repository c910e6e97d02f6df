"""Issue 10's findings 3 and 9-13 on every backend: limits, passwords, webhooks, headers, CSV."""

from __future__ import annotations

import csv
import io

import pytest

from api.exports.csv import _cell

from ..conftest import entry


# Finding 13: CSV injection ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "-Infinity", "+nan", "-1_0", "+1", "-1e5", "=1+1", "@SUM(A1)", " =1+1", "\n=1+1", "\t=1+1", "\r=1",
    "\u00a0=HYPERLINK(\"http://x\")", "\u3000+1", "\u2003-1", "\u200b=1", "\ufeff@x", " \u00a0 -2", "\uff1d1+1",
])
def test_values_a_spreadsheet_could_run_are_quoted(value):
    assert _cell(value) == "'" + value


@pytest.mark.parametrize("value", ["0", "12", "-3", "-2.5", "57.5", "tramadol 50 mg", "a=b", "", "1-2"])
def test_plain_numbers_and_text_pass_unchanged(value):
    assert _cell(value) == value


def test_the_csv_export_defuses_formulas_behind_whitespace(world):
    url = f"/trials/{world.trial_id}/entries"
    for note in ("\u00a0=HYPERLINK(\"http://x\")", " +1", "\n-1_0"):
        assert world.as_patient.post(url, json=entry(note=note)).status_code == 201
    response = world.as_nurse.get(f"/trials/{world.trial_id}/entries.csv")
    notes = [row["note"] for row in csv.DictReader(io.StringIO(response.get_data(as_text=True)))]
    assert notes == ["'\u00a0=HYPERLINK(\"http://x\")", "' +1", "'\n-1_0"]
