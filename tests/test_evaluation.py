"""rankkd.evaluation: metric values checked against hand arithmetic, comparison report, evaluate metric, CLI."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rankkd.evaluation import (
    ComparisonReport,
    compare_runs,
    evaluate_run,
    load_ranx_metric,
    make_compute_metrics,
    pairs_to_run,
)

REPO = Path(__file__).resolve().parents[1]

# Graded example. q1 is ranked d2(1) d3(0) d4(2) d1(3) dx(unjudged); q2 is ranked d7(unjudged) d5(1);
# q3 is judged but has no results (must score 0); qX has results but no judgements (must be ignored).
QRELS = {"q1": {"d1": 3, "d2": 1, "d3": 0, "d4": 2}, "q2": {"d5": 1}, "q3": {"d6": 2}}
RUN = {
    "q1": {"d1": 0.2, "d2": 0.9, "d3": 0.8, "d4": 0.5, "dx": 0.1},
    "q2": {"d7": 0.9, "d5": 0.3},
    "qX": {"d1": 1.0},
}


def _log2(rank: int) -> float:
    return math.log2(rank + 1)


# nDCG@10 by hand, linear gain rel_i / log2(i + 1) (trec_eval / Järvelin-Kekäläinen)
DCG_Q1 = 1 / _log2(1) + 0 / _log2(2) + 2 / _log2(3) + 3 / _log2(4)  # = 1 + 0 + 1 + 1.2920 = 3.2920
IDCG_Q1 = 3 / _log2(1) + 2 / _log2(2) + 1 / _log2(3)  # ideal order 3, 2, 1 = 4.7619
DCG_Q2 = 0 / _log2(1) + 1 / _log2(2)  # = 0.6309
IDCG_Q2 = 1 / _log2(1)
NDCG_Q1, NDCG_Q2, NDCG_Q3 = DCG_Q1 / IDCG_Q1, DCG_Q2 / IDCG_Q2, 0.0
NDCG10 = (NDCG_Q1 + NDCG_Q2 + NDCG_Q3) / 3  # q3 counts as 0, qX is not a query of the test set


@pytest.fixture(scope="module", autouse=True)
def ranx_warm() -> None:
    """Pay ranx's numba start-up (cache load, ~5 s; ~40 s compile in a brand-new venv) once for the module."""
    evaluate_run({"q": {"d": 1}}, {"q": {"d": 1.0}}, ["ndcg@10"])


# ------------------------------------------------------------------------------------------------ evaluate_run
def test_ndcg_at_10_matches_hand_computation_with_missing_query():
    assert NDCG_Q1 == pytest.approx(0.691333, abs=1e-6) and NDCG_Q2 == pytest.approx(0.630930, abs=1e-6)
    result = evaluate_run(QRELS, RUN, ["ndcg@10"])
    assert result["ndcg@10"] == pytest.approx(NDCG10, abs=1e-12)
    assert result["ndcg@10"] == pytest.approx(0.440754, abs=1e-6)
    assert result.num_queries == 3 and result.missing == ("q3",) and result.ignored == ("qX",)
    assert "evaluated 3 queries (1 without results scored 0; 1 run queries not in qrels ignored)" == result.summary()


def test_per_query_scores_and_burges_gain():
    result = evaluate_run(QRELS, RUN, ["ndcg@10", "ndcg_burges@10"], per_query=True)
    assert result["ndcg@10"] == pytest.approx({"q1": NDCG_Q1, "q2": NDCG_Q2, "q3": 0.0}, abs=1e-12)
    # exponential gain 2**rel - 1: gains 1, 0, 3, 7 in ranked order; ideal 7, 3, 1
    burges_q1 = (1 / _log2(1) + 3 / _log2(3) + 7 / _log2(4)) / (7 / _log2(1) + 3 / _log2(2) + 1 / _log2(3))
    assert result["ndcg_burges@10"]["q1"] == pytest.approx(burges_q1, abs=1e-12)
    assert burges_q1 < NDCG_Q1  # the highly relevant d1 at rank 4 costs more with exponential gain
    assert set(result["ndcg@10"]) == {"q1", "q2", "q3"}  # qX ignored


def test_mrr_recall_map_match_hand_computation():
    result = evaluate_run(QRELS, RUN, ["mrr@10", "mrr@1", "recall@3", "map", "map-l2", "precision@2"])
    assert result["mrr@10"] == pytest.approx((1 / 1 + 1 / 2 + 0) / 3)  # first relevant at rank 1, 2, none
    assert result["mrr@1"] == pytest.approx((1 + 0 + 0) / 3)
    # q1: relevant {d1, d2, d4}, top-3 = d2 d3 d4 -> 2/3; q2: 1/1; q3: 0
    assert result["recall@3"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    # AP q1: relevant at ranks 1, 3, 4 -> (1/1 + 2/3 + 3/4) / 3; q2: rank 2 -> (1/2) / 1
    assert result["map"] == pytest.approx(((1 + 2 / 3 + 3 / 4) / 3 + 1 / 2 + 0) / 3)
    # TREC-DL convention map-l2: only grades >= 2 relevant: q1 d4 at 3, d1 at 4; q2 has none; q3 missing
    assert result["map-l2"] == pytest.approx(((1 / 3 + 2 / 4) / 2 + 0 + 0) / 3)
    assert result["precision@2"] == pytest.approx((1 / 2 + 1 / 2 + 0) / 3)


def test_default_metrics_and_inputs_as_files(tmp_path):
    from rankkd.data.io import write_qrels, write_run

    write_qrels(QRELS, tmp_path / "qrels.txt")
    write_run(RUN, tmp_path / "run.txt", tag="t")
    from_dicts = evaluate_run(QRELS, RUN)
    assert list(from_dicts) == ["ndcg@10", "map", "mrr@10", "recall@100"]
    assert from_dicts == pytest.approx(evaluate_run(tmp_path / "qrels.txt", str(tmp_path / "run.txt")))


@pytest.mark.slow  # reading a ranx object from Python JIT-compiles numba's typed-dict methods (uncached, 4-15 s)
def test_inputs_as_ranx_objects():
    from ranx import Qrels, Run

    ranx_run = Run(RUN)
    assert evaluate_run(Qrels(QRELS), ranx_run) == pytest.approx(evaluate_run(QRELS, RUN))
    assert set(ranx_run.keys()) == {"q1", "q2", "qX"}  # the caller's Run is not made comparable in place


def test_query_set_mismatch_raises_without_make_comparable():
    with pytest.raises(ValueError, match=r"1 qrels queries without results \(e.g. \['q3'\]\), 1 run queries not in "
                                         r"qrels \(e.g. \['qX'\]\); pass make_comparable=True"):
        evaluate_run(QRELS, RUN, make_comparable=False)
    same = {"q1": RUN["q1"], "q2": RUN["q2"], "q3": {"d6": 0.1}}
    assert evaluate_run(QRELS, same, ["mrr@10"], make_comparable=False)["mrr@10"] == pytest.approx(2.5 / 3)


def test_run_with_no_known_query_scores_zero():
    result = evaluate_run(QRELS, {"other": {"d1": 1.0}}, ["ndcg@10", "recall@100"])
    assert result == {"ndcg@10": 0.0, "recall@100": 0.0} and len(result.missing) == 3


def test_long_docids_work():
    docid = "clueweb22-en0000-00-00000#" + "x" * 60  # wider than the default 32-char id buffer
    assert evaluate_run({"q": {docid: 1}}, {"q": {"other": 2.0, docid: 1.0}}, "mrr@10")["mrr@10"] == 0.5


@pytest.mark.parametrize(
    ("qrels", "run", "metrics", "match"),
    [
        (QRELS, RUN, ["ndgc@10"], r"unknown metric 'ndgc@10'"),
        (QRELS, RUN, [], r"no metrics given"),
        (QRELS, RUN, ["map", "map"], r"duplicate metric names"),
        ({}, RUN, ["map"], r"qrels are empty"),
        ({"q1": {}}, RUN, ["map"], r"qrels query 'q1' has no judgements"),
        ({"q1": {"d1": 1.5}}, RUN, ["map"], r"qrels relevance of \('q1', 'd1'\) is 1.5; expected an integer grade"),
        (QRELS, {"q1": {"d1": float("nan")}}, ["map"], r"run score of \('q1', 'd1'\) is nan; expected a finite"),
    ],
)
def test_bad_input_raises(qrels, run, metrics, match):
    with pytest.raises(ValueError, match=match):
        evaluate_run(qrels, run, metrics)


def test_bad_run_file_names_file_and_line(tmp_path):
    from rankkd.data.errors import DataFormatError

    path = tmp_path / "run.txt"
    path.write_text("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 oops t\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"run.txt:2: score 'oops' is not a number"):
        evaluate_run(QRELS, path)


# ------------------------------------------------------------------------------------------------ compare_runs
# six queries, one relevant doc "r" each: "strong" always ranks it 1st, "weak" 2nd except on q5
CMP_QRELS = {f"q{i}": {"r": 1, "n": 0} for i in range(6)}
STRONG = {q: {"r": 2.0, "n": 1.0} for q in CMP_QRELS}
WEAK = {q: {"r": 1.0, "n": 2.0} for q in CMP_QRELS}
WEAK["q5"] = {"r": 2.0, "n": 1.0}


@pytest.fixture(scope="module")
def report() -> ComparisonReport:
    return compare_runs(CMP_QRELS, {"weak": WEAK, "strong": STRONG}, ["mrr@10", "recall@100"])


def test_compare_runs_scores_and_p_values(report):
    from scipy.stats import ttest_rel

    assert report.run_names == ["weak", "strong"] and report.num_queries == 6
    assert report.mean_scores["strong"] == {"mrr@10": 1.0, "recall@100": 1.0}
    assert report.mean_scores["weak"]["mrr@10"] == pytest.approx((5 * 0.5 + 1) / 6)
    assert report.per_query["weak"]["mrr@10"] == {f"q{i}": (1.0 if i == 5 else 0.5) for i in range(6)}
    expected_p = ttest_rel([1.0] * 6, [0.5] * 5 + [1.0]).pvalue
    assert report.p_values["strong"]["weak"]["mrr@10"] == pytest.approx(expected_p)
    assert report.p_values["weak"]["strong"]["mrr@10"] == pytest.approx(expected_p)
    assert expected_p < 0.05
    assert report.p_values["strong"]["weak"]["recall@100"] is None  # identical per-query scores: undefined p
    assert report.significant == {"weak": {"mrr@10": [], "recall@100": []},
                                  "strong": {"mrr@10": ["weak"], "recall@100": []}}


def test_markdown_table_bold_best_and_markers(report):
    text = report.to_markdown()
    lines = text.splitlines()
    assert lines[0] == "|  | run | mrr@10 | recall@100 |"
    assert lines[2] == "| a | weak | 0.5833 | **1.0000** |"
    assert lines[3] == "| b | strong | **1.0000**ᵃ | **1.0000** |"  # tie on recall: both bold
    assert "Best per metric in **bold**" in text
    assert "significant improvement over the run with that letter (two-sided paired Student's t-test, p ≤ 0.05)" in text
    assert str(report) == text


def test_markdown_reports_missing_queries():
    partial = {q: STRONG[q] for q in list(STRONG)[:4]} | {"unjudged": {"r": 1.0}}
    rep = compare_runs(CMP_QRELS, {"full": STRONG, "partial": partial}, ["mrr@10"])
    text = rep.to_markdown(digits=3)
    assert "| b | partial | 0.667 |" in text  # 4 of 6 queries found at rank 1, the other 2 score 0
    assert "- partial: no results for 2 of 6 queries (scored 0)." in text
    assert "- partial: 1 run queries without judgements ignored." in text
    assert "- full:" not in text
    assert rep.missing_queries == {"full": 0, "partial": 2} and rep.ignored_queries == {"full": 0, "partial": 1}


def test_json_round_trip(report, tmp_path):
    data = report.to_json(tmp_path / "out" / "report.json")
    text = (tmp_path / "out" / "report.json").read_text(encoding="utf-8")
    assert "NaN" not in text and json.loads(text) == data
    assert ComparisonReport.from_json(tmp_path / "out" / "report.json") == report
    assert ComparisonReport.from_dict(report.to_dict()) == report
    assert report.to_json() == data  # no path: nothing written, same dict


def test_plot_writes_a_png(report, tmp_path):
    path = report.plot(tmp_path / "chart.png")
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 5000
    import matplotlib.image

    height, width, _ = matplotlib.image.imread(path).shape
    assert width > height > 200
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]  # no temporary file left behind


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stat_test": "wilcoxon"}, r"stat_test must be one of \('student', 'fisher', 'tukey'\), got 'wilcoxon'"),
        ({"max_p": 1.5}, r"max_p must be in \(0, 1\), got 1.5"),
    ],
)
def test_compare_runs_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare_runs(CMP_QRELS, {"a": STRONG}, ["mrr@10"], **kwargs)


def test_compare_runs_other_tests_agree_on_direction():
    for stat_test in ("fisher", "tukey"):
        rep = compare_runs(CMP_QRELS, {"weak": WEAK, "strong": STRONG}, ["mrr@10"], stat_test=stat_test)
        assert rep.significant["weak"]["mrr@10"] == []
        p = rep.p_values["strong"]["weak"]["mrr@10"]
        assert p is not None and 0.0 <= p <= 1.0


# ------------------------------------------------------------------------------- Trainer / evaluate integration
ROWS_Q = ["q1", "q1", "q1", "q1", "q1", "q2", "q2", "qX"]
ROWS_D = ["d1", "d2", "d3", "d4", "dx", "d7", "d5", "d1"]
ROWS_S = [0.2, 0.9, 0.8, 0.5, 0.1, 0.9, 0.3, 1.0]


def test_pairs_to_run_and_its_errors():
    assert pairs_to_run(ROWS_Q, ROWS_D, ROWS_S) == RUN
    with pytest.raises(ValueError, match=r"length mismatch: 2 query ids, 1 doc ids, 1 scores"):
        pairs_to_run(["q", "q"], ["d"], [1.0])
    with pytest.raises(ValueError, match=r"row 1: duplicate \(query, doc\) pair \('q', 'd'\)"):
        pairs_to_run(["q", "q"], ["d", "d"], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"row 0: score of \('q', 'd'\) is inf"):
        pairs_to_run(["q"], ["d"], [float("inf")])


def test_make_compute_metrics_with_fake_eval_prediction():
    compute = make_compute_metrics(ROWS_Q, ROWS_D, QRELS, ["ndcg@10", "mrr@10"])
    logits = np.asarray(ROWS_S, dtype=np.float32)[:, None]  # (n, 1) like a num_labels=1 cross-encoder
    out = compute(SimpleNamespace(predictions=logits, label_ids=None))
    assert out["ndcg@10"] == pytest.approx(NDCG10, abs=1e-6)  # float32 scores keep the same order
    assert out["mrr@10"] == pytest.approx(0.5) and out["num_queries"] == 3.0
    # (n, 2) logits rank by logit[1] - logit[0]; a tuple of outputs uses the first
    two = np.stack([np.zeros(len(ROWS_S)), np.asarray(ROWS_S)], axis=1)
    assert compute(SimpleNamespace(predictions=(two, np.zeros(3)))) == pytest.approx(out)
    with pytest.raises(ValueError, match=r"predictions of shape \(8, 3\); expected \(n,\), \(n, 1\) or \(n, 2\)"):
        compute(SimpleNamespace(predictions=np.zeros((8, 3))))
    with pytest.raises(ValueError, match=r"length mismatch: 8 query ids, 8 doc ids, 5 scores"):
        compute(SimpleNamespace(predictions=np.zeros(5)))


def test_evaluate_library_metric_offline():
    metric = load_ranx_metric()
    labels = [QRELS.get(q, {}).get(d, 0) for q, d in zip(ROWS_Q, ROWS_D)]
    out = metric.compute(predictions=ROWS_S, references=labels, query_ids=ROWS_Q, doc_ids=ROWS_D,
                         metrics=["ndcg@10", "mrr@10"])
    # judgements = the rows' labels: q1's (d1 3, d2 1, d3 0, d4 2) as before; q2 only sees d5 (1) and d7 (0);
    # qX's single row has label 0, so qX is a judged query without relevant documents and scores 0
    assert out["num_queries"] == 3
    assert out["ndcg@10"] == pytest.approx((NDCG_Q1 + NDCG_Q2 + 0.0) / 3, abs=1e-12)
    assert out["mrr@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert metric.compute(predictions=[0.9, 0.1], references=[0, 1], query_ids=["q", "q"], doc_ids=["a", "b"],
                          metrics=["mrr@10"]) == {"mrr@10": 0.5, "num_queries": 1}


# ---------------------------------------------------------------------------------------------------------- CLI
def _load_script():
    spec = importlib.util.spec_from_file_location("rankkd_evaluate_script", REPO / "scripts" / "evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_compares_runs_and_writes_outputs(tmp_path, capsys):
    from rankkd.data.io import write_qrels, write_run

    write_qrels(CMP_QRELS, tmp_path / "qrels.txt")
    write_run(WEAK, tmp_path / "weak.txt")
    write_run(STRONG, tmp_path / "run.strong.txt")
    script = _load_script()
    assert script.make_parser().parse_args(["--qrels", "q", "--run", "x"]).runs == [("x", "x")]
    code = script.main([
        "--qrels", str(tmp_path / "qrels.txt"), "--run", f"weak={tmp_path / 'weak.txt'}",
        "--run", str(tmp_path / "run.strong.txt"), "--metrics", "mrr@10", "recall@100",
        "--markdown", str(tmp_path / "out.md"), "--json", str(tmp_path / "out.json"), "--plot", str(tmp_path / "out.png"),
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| a | weak | 0.5833 | **1.0000** |" in printed
    assert "| b | run.strong | **1.0000**ᵃ | **1.0000** |" in printed
    assert (tmp_path / "out.md").read_text(encoding="utf-8") == printed
    saved = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert saved["run_names"] == ["weak", "run.strong"] and saved["stat_test"] == "student"
    assert (tmp_path / "out.png").read_bytes()[:4] == b"\x89PNG"


def test_script_rejects_duplicate_names_and_bad_run_spec(tmp_path):
    script = _load_script()
    with pytest.raises(SystemExit, match=r"duplicate run names \['a', 'a'\]"):
        script.main(["--qrels", "q.txt", "--run", "a=x.txt", "--run", "a=y.txt"])
    with pytest.raises(SystemExit):
        script.make_parser().parse_args(["--qrels", "q", "--run", "=x"])


# ----------------------------------------------------------------------------------------------------- real data
@pytest.mark.slow
@pytest.mark.parametrize(("year", "expected"), [("2019", 0.5058), ("2020", 0.4796)])
def test_trec_dl_bm25_standard_numbers(shared_data, year, expected):
    folder = shared_data / f"trec-dl-{year}"
    result = evaluate_run(folder / "qrels.txt", folder / "run.bm25.txt")
    assert round(result["ndcg@10"], 4) == expected
    assert result.num_queries == {"2019": 43, "2020": 54}[year] and not result.missing and not result.ignored
