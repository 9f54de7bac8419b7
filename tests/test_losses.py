"""Tests of rankkd.losses: hand-computed values, padding/NaN invariance, gradients, registry, errors."""

from __future__ import annotations

import doctest
import importlib
import json
import math
import pkgutil
from collections.abc import Callable

import pytest
import torch

import rankkd.losses as losses_pkg
from rankkd.losses import (
    LOSSES,
    ApproxDiscountedRankMSELoss,
    BCELoss,
    CombinedLoss,
    DeARLoss,
    InfoNCELoss,
    KLDivLoss,
    LambdaLoss,
    ListNetLoss,
    MarginMSELoss,
    MSELoss,
    RankingLoss,
    RankNetLoss,
    get_loss,
)

# ---------------------------------------------------------------- plain-python reference helpers


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def softmax(xs: list[float]) -> list[float]:
    exps = [math.exp(x) for x in xs]
    return [e / sum(exps) for e in exps]


def t(rows: list[list[float]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


# ---------------------------------------------------------------- every loss configuration under test

CASES: dict[str, Callable[[], RankingLoss]] = {
    "bce": BCELoss,
    "bce_threshold": lambda: BCELoss(threshold=0.5, pos_weight=2.0),
    "infonce": lambda: InfoNCELoss(temperature=0.5),
    "infonce_argmax": lambda: InfoNCELoss(positive="argmax"),
    "mse": MSELoss,
    "margin_mse": MarginMSELoss,
    "kl_div": lambda: KLDivLoss(temperature=2.0),
    "ranknet": RankNetLoss,
    "ranknet_ndcg": lambda: RankNetLoss(weighting="ndcg"),
    "lambda_loss2pp": LambdaLoss,
    "lambda_lambdarank": lambda: LambdaLoss(weighting="lambdarank", gain="linear"),
    "lambda_loss2_k": lambda: LambdaLoss(weighting="ndcg_loss2", k=2),
    "listnet": ListNetLoss,
    "adr_mse": ApproxDiscountedRankMSELoss,
    "adr_mse_average": lambda: ApproxDiscountedRankMSELoss(temperature=0.5, ties="average", discount="reciprocal"),
    "combined": lambda: CombinedLoss({"mse": MSELoss(), "ranknet": RankNetLoss()}, {"mse": 0.3}),
    "dear": DeARLoss,
}
case_params = pytest.mark.parametrize("make_loss", list(CASES.values()), ids=list(CASES))


def test_cases_cover_the_whole_registry() -> None:
    covered = {type(make()) for make in CASES.values()}
    assert set(LOSSES.values()) <= covered


def random_batch(batch: int = 3, n: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """float64 scores, distinct targets in [0, 1] and a ragged mask that keeps index 0 valid."""
    gen = torch.Generator().manual_seed(seed)
    scores = torch.randn(batch, n, generator=gen, dtype=torch.float64)
    targets = torch.rand(batch, n, generator=gen, dtype=torch.float64)
    mask = torch.ones(batch, n, dtype=torch.bool)
    mask[1, 3:] = False  # a shorter group
    return scores, targets, mask


# ---------------------------------------------------------------- properties over all losses


@case_params
def test_random_input_gives_finite_scalar_and_gradient(make_loss: Callable[[], RankingLoss]) -> None:
    scores, targets, mask = random_batch()
    scores.requires_grad_(True)
    loss = make_loss()(scores, targets, mask)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert scores.grad is not None and torch.isfinite(scores.grad).all()
    assert scores.grad[mask].abs().sum() > 0
    assert (scores.grad[~mask] == 0).all()


@case_params
def test_padding_does_not_change_value_or_gradient(make_loss: Callable[[], RankingLoss]) -> None:
    loss_fn = make_loss()
    scores, targets, _ = random_batch(batch=2, n=3, seed=1)
    plain = scores.clone().requires_grad_(True)
    expected = loss_fn(plain, targets)
    expected.backward()

    # Padding with garbage: NaN scores and large targets that would dominate any softmax if not masked.
    padded = torch.cat([scores, torch.full((2, 2), float("nan"), dtype=torch.float64)], dim=1).requires_grad_(True)
    padded_targets = torch.cat([targets, torch.full((2, 2), 50.0, dtype=torch.float64)], dim=1)
    mask = torch.tensor([[True] * 3 + [False] * 2] * 2)
    if isinstance(loss_fn, BCELoss) and loss_fn.threshold is None:
        padded_targets[:, 3:] = 1.0  # stay in BCE's domain so the mask alone is what is tested
    value = loss_fn(padded, padded_targets, mask)
    value.backward()

    torch.testing.assert_close(value, expected)
    assert padded.grad is not None and plain.grad is not None
    torch.testing.assert_close(padded.grad[:, :3], plain.grad)
    assert (padded.grad[:, 3:] == 0).all()


@case_params
def test_nan_targets_are_treated_as_padding(make_loss: Callable[[], RankingLoss]) -> None:
    loss_fn = make_loss()
    scores, targets, _ = random_batch(batch=2, n=3, seed=2)
    expected = loss_fn(scores, targets)
    padded_scores = torch.cat([scores, torch.tensor([[7.0], [-3.0]], dtype=torch.float64)], dim=1)
    padded_targets = torch.cat([targets, torch.full((2, 1), float("nan"), dtype=torch.float64)], dim=1)
    torch.testing.assert_close(loss_fn(padded_scores, padded_targets), expected)


@case_params
def test_gradcheck_float64(make_loss: Callable[[], RankingLoss]) -> None:
    loss_fn = make_loss()
    scores, targets, mask = random_batch(batch=2, n=4, seed=3)
    mask[1, 3] = False
    scores.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda s: loss_fn(s, targets, mask), (scores,), eps=1e-6, atol=1e-5)


@case_params
def test_sgd_step_towards_target_order_decreases_loss(make_loss: Callable[[], RankingLoss]) -> None:
    loss_fn = make_loss()
    scores, targets, mask = random_batch(seed=4)
    scores.requires_grad_(True)
    before = loss_fn(scores, targets, mask)
    before.backward()
    assert scores.grad is not None
    with torch.no_grad():
        after = loss_fn(scores - 0.05 * scores.grad, targets, mask)
    assert after < before


@case_params
def test_fully_masked_batch_gives_zero_attached_to_graph(make_loss: Callable[[], RankingLoss]) -> None:
    scores = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    loss = make_loss()(scores, torch.rand(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.bool))
    assert loss.item() == 0.0
    loss.backward()
    assert scores.grad is not None and (scores.grad == 0).all()


@case_params
def test_shape_errors_name_received_and_expected(make_loss: Callable[[], RankingLoss]) -> None:
    loss_fn = make_loss()
    name = type(loss_fn).__name__
    scores_1d = rf"{name}: scores must be a 2-D tensor \[batch, candidates\]; received shape \(3,\)"
    with pytest.raises(ValueError, match=scores_1d):
        loss_fn(torch.zeros(3), torch.zeros(3))
    targets_shape = r"targets must have the same shape as scores; expected \(1, 3\), received \(1, 4\)"
    with pytest.raises(ValueError, match=targets_shape):
        loss_fn(torch.zeros(1, 3), torch.zeros(1, 4))
    mask_shape = r"mask must have the same shape as scores; expected \(1, 3\), received \(1, 2\)"
    with pytest.raises(ValueError, match=mask_shape):
        loss_fn(torch.zeros(1, 3), torch.zeros(1, 3), torch.ones(1, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"mask must be a bool tensor \(True = valid\); received torch.int64"):
        loss_fn(torch.zeros(1, 3), torch.zeros(1, 3), torch.ones(1, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"scores must be a floating-point tensor; received dtype torch.int64"):
        loss_fn(torch.zeros(1, 3, dtype=torch.long), torch.zeros(1, 3))


@case_params
def test_citation_and_json_config(make_loss: Callable[[], RankingLoss]) -> None:
    loss_fn = make_loss()
    assert "@" in loss_fn.citation and "year" in loss_fn.citation
    config = loss_fn.get_config_dict()
    assert isinstance(config, dict)
    json.dumps(config)


@case_params
def test_bf16_scores_are_computed_in_float32(make_loss: Callable[[], RankingLoss]) -> None:
    scores, targets, mask = random_batch(seed=5)
    scores = scores.to(torch.bfloat16).requires_grad_(True)
    loss = make_loss()(scores, targets, mask)
    assert loss.dtype == torch.float32
    loss.backward()
    assert scores.grad is not None and scores.grad.dtype == torch.bfloat16


@pytest.mark.parametrize("module", [m.name for m in pkgutil.iter_modules(losses_pkg.__path__)])
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"rankkd.losses.{module}"))
    assert result.failed == 0


# ---------------------------------------------------------------- hand-computed values, one loss at a time


def test_bce_value_soft_labels() -> None:
    expected = (
        -math.log(sigmoid(2.0))
        - math.log(1 - sigmoid(0.0))
        - (0.5 * math.log(sigmoid(-1.0)) + 0.5 * math.log(1 - sigmoid(-1.0)))
    ) / 3
    assert BCELoss()(t([[2.0, 0.0, -1.0]]), t([[1.0, 0.0, 0.5]])).item() == pytest.approx(expected)


def test_bce_threshold_and_pos_weight() -> None:
    # graded [3, 1, 0] with threshold 2 -> labels [1, 0, 0]; positive term weighted by 2
    expected = (-2 * math.log(sigmoid(1.0)) - math.log(1 - sigmoid(0.5)) - math.log(1 - sigmoid(-1.0))) / 3
    loss = BCELoss(threshold=2, pos_weight=2.0)(t([[1.0, 0.5, -1.0]]), torch.tensor([[3, 1, 0]]))
    assert loss.item() == pytest.approx(expected)


def test_bce_rejects_graded_labels_without_threshold() -> None:
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]; received values in \[0, 3\]"):
        BCELoss()(t([[1.0, 0.0]]), t([[3.0, 0.0]]))


def test_infonce_value_positive_first() -> None:
    scores = [[2.0, 1.0, 0.0], [0.0, 1.0, 3.0]]
    tau = 0.5
    per_query = [-math.log(softmax([s / tau for s in row])[0]) for row in scores]
    loss = InfoNCELoss(temperature=tau)(t(scores))  # no targets needed
    assert loss.item() == pytest.approx(sum(per_query) / 2)


def test_infonce_argmax_positive() -> None:
    scores = [0.2, 1.0, -0.3]
    expected = -math.log(softmax(scores)[1])
    assert InfoNCELoss(positive="argmax")(t([scores]), t([[0.1, 0.9, 0.3]])).item() == pytest.approx(expected)
    no_targets = r"InfoNCELoss needs targets \(teacher relevance\) of shape \(1, 3\); received None"
    with pytest.raises(ValueError, match=no_targets):
        InfoNCELoss(positive="argmax")(t([scores]))


def test_infonce_rejects_masked_positive() -> None:
    mask = torch.tensor([[True, True], [False, True]])
    with pytest.raises(ValueError, match=r"the positive \(index 0\) is masked for queries \[1\]"):
        InfoNCELoss()(t([[1.0, 0.0], [1.0, 0.0]]), mask=mask)


def test_ragged_group_equals_mean_of_unpadded_groups() -> None:
    scores = t([[2.0, 1.0, 0.0], [0.5, -0.5, 99.0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    row0 = -math.log(softmax([2.0, 1.0, 0.0])[0])
    row1 = -math.log(softmax([0.5, -0.5])[0])
    assert InfoNCELoss()(scores, mask=mask).item() == pytest.approx((row0 + row1) / 2)


def test_mse_value() -> None:
    scores, teacher = [[1.0, 0.0, 2.0], [0.5, 0.5, 0.5]], [[3.0, 1.0, 2.0], [0.0, 1.0, 0.5]]
    expected = sum((s - x) ** 2 for rs, rt in zip(scores, teacher) for s, x in zip(rs, rt)) / 6
    assert MSELoss()(t(scores), t(teacher)).item() == pytest.approx(expected)


def test_margin_mse_value() -> None:
    scores, teacher = [[1.0, 0.0, 0.5], [2.0, 2.5, -1.0]], [[4.0, 1.0, 2.0], [1.0, 0.0, 0.5]]
    errors = [
        ((rs[0] - rs[i]) - (rt[0] - rt[i])) ** 2 for rs, rt in zip(scores, teacher) for i in (1, 2)
    ]
    assert MarginMSELoss()(t(scores), t(teacher)).item() == pytest.approx(sum(errors) / 4)


def test_margin_mse_positive_index_and_masked_positive() -> None:
    expected = ((0.0 - 1.0) - (5.0 - 1.0)) ** 2  # positive at index 1, one negative
    assert MarginMSELoss(positive=1)(t([[1.0, 0.0]]), t([[1.0, 5.0]])).item() == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"MarginMSELoss: the positive \(index 0\) is masked for queries \[0\]"):
        MarginMSELoss()(t([[1.0, 0.0, 2.0]]), t([[float("nan"), 1.0, 0.0]]))


def test_kl_div_value_with_temperature() -> None:
    temp = 2.0
    scores, teacher = [[0.5, 1.0, -0.5], [0.0, 0.0, 1.0]], [[3.0, 1.0, 2.0], [1.0, 0.0, 0.0]]
    per_query = []
    for rs, rt in zip(scores, teacher):
        p_s = softmax([s / temp for s in rs])
        p_t = softmax([x / temp for x in rt])
        per_query.append(temp**2 * sum(pt * math.log(pt / ps) for pt, ps in zip(p_t, p_s)))
    assert KLDivLoss(temperature=temp)(t(scores), t(teacher)).item() == pytest.approx(sum(per_query) / 2)


def test_kl_div_is_zero_when_student_matches_teacher() -> None:
    assert KLDivLoss(3.0)(t([[1.0, 2.0, 3.0]]), t([[1.0, 2.0, 3.0]])).item() == pytest.approx(0.0, abs=1e-12)


def test_listnet_value() -> None:
    scores, teacher = [[0.5, 1.0, -0.5], [0.0, 2.0, 1.0]], [[3.0, 1.0, 2.0], [1.0, 0.0, 0.0]]
    per_query = [
        -sum(pt * math.log(ps) for pt, ps in zip(softmax(rt), softmax(rs))) for rs, rt in zip(scores, teacher)
    ]
    assert ListNetLoss()(t(scores), t(teacher)).item() == pytest.approx(sum(per_query) / 2)


S3 = [0.5, 1.0, -0.5]
T3 = [3.0, 1.0, 2.0]  # teacher order: 0 > 2 > 1; pairs (0,1), (0,2), (2,1)


def test_ranknet_value_and_sigma() -> None:
    pairs = [(0, 1), (0, 2), (2, 1)]
    for sigma in (1.0, 2.0):
        expected = sum(softplus(-sigma * (S3[i] - S3[j])) for i, j in pairs) / 3
        assert RankNetLoss(sigma=sigma)(t([S3]), t([T3])).item() == pytest.approx(expected)


def test_ranknet_ignores_tied_targets() -> None:
    expected = (softplus(-(S3[0] - S3[2])) + softplus(-(S3[1] - S3[2]))) / 2  # (0,1) tie forms no pair
    assert RankNetLoss()(t([S3]), t([[1.0, 1.0, 0.0]])).item() == pytest.approx(expected)


def test_ranknet_is_unweighted_lambda_loss() -> None:
    scores, targets, mask = random_batch(seed=6)
    torch.testing.assert_close(RankNetLoss()(scores, targets, mask), LambdaLoss(weighting=None)(scores, targets, mask))
    torch.testing.assert_close(
        RankNetLoss(weighting="ndcg")(scores, targets, mask), LambdaLoss(weighting="lambdarank")(scores, targets, mask)
    )
    assert isinstance(RankNetLoss(), LambdaLoss)


def _lambda_reference(weighting: str, k: int | None = None) -> float:
    """LambdaLoss for S3/T3 in plain python (gain 2^t - 1, natural-log logistic loss)."""
    student_rank = {1: 1, 0: 2, 2: 3}  # student order by score: 1 (1.0) > 0 (0.5) > 2 (-0.5)
    raw = [2**x - 1 for x in T3]
    ideal = sorted(raw, reverse=True)[: k or 3]
    idcg = sum(g / math.log2(1 + pos) for pos, g in enumerate(ideal, start=1))
    gains = [g / idcg for g in raw]
    total, count = 0.0, 0
    for i, j in [(0, 1), (0, 2), (2, 1)]:
        ri, rj = student_rank[i], student_rank[j]
        if k is not None and min(ri, rj) > k:
            continue
        gain_diff = abs(gains[i] - gains[j])
        lambdarank = gain_diff * abs(1 / math.log2(1 + ri) - 1 / math.log2(1 + rj))
        d = abs(ri - rj)
        loss2 = gain_diff * abs(1 / math.log2(1 + d) - 1 / math.log2(2 + d))
        weight = {"lambdarank": lambdarank, "ndcg_loss2": loss2, "ndcg_loss2pp": 10 * loss2 + lambdarank}[weighting]
        total += weight * softplus(-(S3[i] - S3[j]))
        count += 1
    return total / count


@pytest.mark.parametrize("weighting", ["lambdarank", "ndcg_loss2", "ndcg_loss2pp"])
def test_lambda_loss_weightings(weighting: str) -> None:
    loss = LambdaLoss(weighting=weighting)(t([S3]), t([T3]))  # type: ignore[arg-type]
    assert loss.item() == pytest.approx(_lambda_reference(weighting))


def test_lambda_loss_top_k() -> None:
    # k=1: the pair (0, 2) has neither candidate in the student's top-1 and drops out; IDCG@1 = 7.
    loss = LambdaLoss(weighting="ndcg_loss2pp", k=1)(t([S3]), t([T3]))
    assert loss.item() == pytest.approx(_lambda_reference("ndcg_loss2pp", k=1))


def test_lambda_loss_rejects_unknown_weighting() -> None:
    with pytest.raises(ValueError, match=r"unknown weighting 'ndcg'; expected None or one of"):
        LambdaLoss(weighting="ndcg")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"RankNetLoss: weighting must be None or 'ndcg'; received 'lambdarank'"):
        RankNetLoss(weighting="lambdarank")  # type: ignore[arg-type]


def _approx_ranks(scores: list[float], temperature: float = 1.0) -> list[float]:
    return [
        1 + sum(sigmoid((sj - si) / temperature) for j, sj in enumerate(scores) if j != i)
        for i, si in enumerate(scores)
    ]


def test_adr_mse_value() -> None:
    teacher = [0.9, 0.1, 0.5]
    ranks = [1, 3, 2]
    approx = _approx_ranks(S3)
    expected = sum((a - r) ** 2 / math.log2(1 + r) for a, r in zip(approx, ranks)) / 3
    assert ApproxDiscountedRankMSELoss()(t([S3]), t([teacher])).item() == pytest.approx(expected)


def test_adr_mse_temperature_discounts_and_ties() -> None:
    teacher = [[1.0, 1.0, 0.0]]
    approx = _approx_ranks(S3, temperature=0.5)
    first = sum((a - r) ** 2 / math.log2(1 + r) for a, r in zip(approx, [1, 2, 3])) / 3
    average = sum((a - r) ** 2 / r for a, r in zip(approx, [1.5, 1.5, 3])) / 3
    plain = sum((a - r) ** 2 for a, r in zip(approx, [1, 2, 3])) / 3
    assert ApproxDiscountedRankMSELoss(0.5)(t([S3]), t(teacher)).item() == pytest.approx(first)
    adr_avg = ApproxDiscountedRankMSELoss(0.5, discount="reciprocal", ties="average")
    assert adr_avg(t([S3]), t(teacher)).item() == pytest.approx(average)
    assert ApproxDiscountedRankMSELoss(0.5, discount=None)(t([S3]), t(teacher)).item() == pytest.approx(plain)


def test_adr_mse_ranks_only_count_valid_candidates() -> None:
    # candidate 1 is padding: teacher ranks among {0, 2} are [1, 2] and approx ranks ignore candidate 1.
    mask = torch.tensor([[True, False, True]])
    approx = _approx_ranks([S3[0], S3[2]])
    expected = ((approx[0] - 1) ** 2 / 1 + (approx[1] - 2) ** 2 / math.log2(3)) / 2
    loss = ApproxDiscountedRankMSELoss()(t([S3]), t([[0.2, 5.0, 0.1]]), mask)
    assert loss.item() == pytest.approx(expected)


# ---------------------------------------------------------------- combinations and registry


def test_combined_loss_components_and_total() -> None:
    scores, teacher = t([S3]), t([T3])
    specs = {"mse": MSELoss(), "kl": {"name": "kl_div", "temperature": 2.0}, "rn": "ranknet"}
    combined = CombinedLoss(specs, {"mse": 0.5, "kl": 2.0})
    total, parts = combined.forward_with_components(scores, teacher)
    mse = sum((s - x) ** 2 for s, x in zip(S3, T3)) / 3
    assert parts["mse"].item() == pytest.approx(mse)
    assert isinstance(combined.losses["kl"], KLDivLoss) and combined.losses["kl"].temperature == 2.0
    expected = 0.5 * mse + 2.0 * parts["kl"].item() + 1.0 * parts["rn"].item()
    assert total.item() == pytest.approx(expected)
    torch.testing.assert_close(combined(scores, teacher), total)
    assert combined.get_config_dict()["weights"] == {"mse": 0.5, "kl": 2.0, "rn": 1.0}


def test_combined_loss_errors() -> None:
    with pytest.raises(ValueError, match=r"weights given for unknown losses \['typo'\]; expected names from \['mse'\]"):
        CombinedLoss({"mse": MSELoss()}, {"typo": 1.0})
    with pytest.raises(ValueError, match=r"losses must contain at least one loss"):
        CombinedLoss({})
    with pytest.raises(ValueError, match=r"CombinedLoss: targets must have the same shape as scores"):
        CombinedLoss({"mse": MSELoss()})(torch.zeros(1, 3), torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"expected a RankingLoss, a registry name or a mapping with a 'name' key"):
        CombinedLoss({"x": 3})  # type: ignore[dict-item]


def test_dear_loss_value() -> None:
    alpha, temp = 0.3, 2.0
    p_s, p_t = softmax([s / temp for s in S3]), softmax([x / temp for x in T3])
    kl = temp**2 * sum(pt * math.log(pt / ps) for pt, ps in zip(p_t, p_s))
    ranknet = sum(softplus(-(S3[i] - S3[j])) for i, j in [(0, 1), (0, 2), (2, 1)]) / 3
    loss = DeARLoss(alpha=alpha, temperature=temp)
    total, parts = loss.forward_with_components(t([S3]), t([T3]))
    assert parts["kl"].item() == pytest.approx(kl)
    assert total.item() == pytest.approx(alpha * kl + (1 - alpha) * ranknet)
    assert isinstance(DeARLoss(ranking_loss="adr_mse").losses["ranking"], ApproxDiscountedRankMSELoss)
    with pytest.raises(ValueError, match=r"DeARLoss: alpha must lie in \[0, 1\]; received 1.5"):
        DeARLoss(alpha=1.5)


def test_get_loss_by_name_alias_and_class_name() -> None:
    assert isinstance(get_loss("adr-mse", temperature=0.5), ApproxDiscountedRankMSELoss)
    assert get_loss("ADR_MSE", temperature=0.5).temperature == 0.5  # type: ignore[attr-defined]
    assert isinstance(get_loss("RankNetLoss"), RankNetLoss)
    assert isinstance(get_loss("lce"), InfoNCELoss)
    with pytest.raises(ValueError, match=r"unknown loss 'nope'; expected one of \['adr_mse', 'bce'"):
        get_loss("nope")


def test_common_input_errors() -> None:
    no_targets = r"MSELoss needs targets \(teacher relevance\) of shape \(1, 2\); received None"
    with pytest.raises(ValueError, match=no_targets):
        MSELoss()(torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"targets contain \+/-inf at valid positions"):
        MSELoss()(torch.zeros(1, 2), torch.tensor([[float("inf"), 0.0]]))
    with pytest.raises(ValueError, match=r"KLDivLoss: temperature must be > 0; received 0"):
        KLDivLoss(temperature=0)
