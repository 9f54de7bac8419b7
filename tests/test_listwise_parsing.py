"""The permutation parser: accepted variants and exact repair counts."""

from __future__ import annotations

import pytest

from rankkd.listwise.parsing import ParseSummary, parse_permutation, strip_reasoning


@pytest.mark.parametrize("text, order", [
    ("[2] > [1] > [3]", [1, 0, 2]),
    ("2 > 1 > 3", [1, 0, 2]),
    ("[2], [1], [3]", [1, 0, 2]),
    ("Ranking: [3] > [1] > [2]", [2, 0, 1]),
    ("[3] > [2] > [1]\nThese are ranked by relevance to 5 topics.", [2, 1, 0]),
    ("The ranking is 2 > 3 > 1.", [1, 2, 0]),
    ("<think>maybe [1] > [2] > [3]</think>\n[3] > [1] > [2]", [2, 0, 1]),
    ("Passage [3] mentions the query; Passage [1] too.\n\n[3] > [1] > [2]", [2, 0, 1]),
    ("[1] > [3] > [2]\n\nReasoning:\n- Passage [3] is similar to Passage [2] but better", [0, 2, 1]),
    ("[ 2 ]>[1]>[3]", [1, 0, 2]),
])
def test_variants_parse_without_repair(text, order):
    result = parse_permutation(text, 3)
    assert result.order == order
    assert result.parsed_ok and result.complete_without_repair and not result.failed
    assert (result.n_duplicates, result.n_out_of_range, result.n_missing) == (0, 0, 0)


def test_repairs_are_counted_exactly():
    # 2 repeated twice, 7 and 0 out of range, 4 and 5 never mentioned -> appended in input order
    result = parse_permutation("[2] > [2] > [7] > [1] > [0] > [3] > [2]", 5)
    assert result.order == [1, 0, 2, 3, 4]
    assert (result.n_duplicates, result.n_out_of_range, result.n_missing) == (2, 2, 2)
    assert result.parsed_ok and not result.complete_without_repair and not result.failed


def test_failure_keeps_input_order():
    result = parse_permutation("I cannot rank these passages.", 4)
    assert result.failed and not result.parsed_ok
    assert result.order == [0, 1, 2, 3]
    assert result.n_missing == 4


def test_letters_and_unclosed_think():
    assert parse_permutation("[C] > [A] > [B]", 3, "letter").order == [2, 0, 1]
    assert parse_permutation("C > A", 3, "letter").order == [2, 0, 1]
    assert strip_reasoning("blah [1] > [2]</think> [2] > [1]").strip() == "[2] > [1]"
    assert parse_permutation("<think>[2] > [1]", 2).order == [1, 0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be >= 1"):
        parse_permutation("[1]", 0)
    with pytest.raises(ValueError, match="style must be one of"):
        parse_permutation("[1]", 1, "roman")


def test_summary_rates_and_report():
    summary = ParseSummary()
    for text in ("[1] > [2]", "[2] > [2]", "nothing"):
        summary.add(parse_permutation(text, 2), text)
    assert summary.n == 3 and summary.parsed_ok == 2 and summary.complete_without_repair == 1
    assert summary.parse_rate == pytest.approx(2 / 3)
    assert summary.clean_rate == pytest.approx(1 / 3)
    report = summary.to_repair_report()
    assert report.counts == {"parse_failed_input_order_kept": 1, "duplicate_ids_dropped": 1,
                             "missing_ids_appended": 3}
    assert report.examples["parse_failed_input_order_kept"] == ["nothing"]
    assert summary.metrics("eval_")["eval_parse_rate"] == pytest.approx(2 / 3)
