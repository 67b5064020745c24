"""The condition helpers generators share: dropout, stacking, padding, checks, Min-SNR."""

from __future__ import annotations

import pytest
import torch

from voxcore.conditioning import (
    check_condition,
    min_snr_weights,
    replace_dropped,
    stack_conditions,
)
from voxcore.interfaces import Condition


def _condition(batch: int, length: int, width: int = 4, pooled: bool = False) -> Condition:
    tokens = torch.arange(batch * length * width, dtype=torch.float32).view(batch, length, width)
    mask = torch.ones(batch, length, dtype=torch.bool)
    return Condition(tokens, mask, torch.ones(batch, 2) if pooled else None)


def test_replace_dropped_pads_and_swaps_only_dropped_items() -> None:
    condition, null = _condition(2, 3, pooled=True), _condition(2, 1, pooled=True)
    null = Condition(null.tokens * 0 - 1, null.mask, null.pooled * 0)  # type: ignore[operator]
    out = replace_dropped(condition, null, torch.tensor([False, True]))
    assert torch.equal(out.tokens[0], condition.tokens[0])
    assert out.mask[1].tolist() == [True, False, False]
    assert torch.equal(out.tokens[1, 0], torch.full((4,), -1.0))
    assert out.pooled is not None and out.pooled[:, 0].tolist() == [1.0, 0.0]


def test_stack_conditions_pads_to_the_longer() -> None:
    out = stack_conditions(_condition(1, 3), _condition(2, 1))
    assert out.tokens.shape == (3, 3, 4)
    assert out.mask.tolist() == [[True] * 3, [True, False, False], [True, False, False]]


def test_check_condition_messages() -> None:
    with pytest.raises(ValueError, match=r"gen expects condition tokens \[B=2, M, 8\]"):
        check_condition(_condition(2, 3), 2, 8, None, "gen")
    with pytest.raises(ValueError, match="needs Condition.pooled of shape"):
        check_condition(_condition(2, 3), 2, 4, 2, "gen")
    empty = Condition(torch.zeros(1, 2, 4), torch.zeros(1, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="at least one valid"):
        check_condition(empty, 1, 4, None, "gen")


def test_min_snr_weights() -> None:
    alphas = torch.tensor([0.999, 0.5, 1e-9])
    steps = torch.tensor([0, 1, 2])
    eps = min_snr_weights(alphas, steps, 5.0, "epsilon")
    snr = alphas / (1 - alphas)
    torch.testing.assert_close(eps, torch.minimum(snr, torch.tensor(5.0)) / snr)
    assert eps[2] == 1.0  # no 0/0 at the end of a cosine schedule
    v = min_snr_weights(alphas, steps, 5.0, "v_prediction")
    torch.testing.assert_close(v, torch.minimum(snr, torch.tensor(5.0)) / (snr + 1))
