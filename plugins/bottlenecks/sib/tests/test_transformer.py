"""The ``transformer`` bottleneck: the conformance suite, its config, registration and size."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from pydantic import ValidationError
from voxcore_sib import TransformerBottleneckConfig
from voxcore_sib.transformer import TransformerBottleneck

from voxcore.plugin_api import get_registry
from voxcore.testing import reset_plugins
from voxcore.testing.bottleneck import BottleneckSuite

#: Table 8 of the paper: the plain Transformer bottleneck has 71 M parameters (1024 -> 768).
PAPER_TRANSFORMER_PARAMS = 71e6
#: The paper rounds to whole millions and does not give the exact layout; 3 % covers that.
PARAM_TOLERANCE = 0.03


class TestTransformer(BottleneckSuite):
    length_ratio = 1

    def build_bottleneck(self, input_dim: int, output_dim: int,
                         pooled_dim: int | None) -> TransformerBottleneck:
        return TransformerBottleneck(TransformerBottleneckConfig(
            input_dim=input_dim, output_dim=output_dim, pooled_dim=pooled_dim, num_layers=2,
            num_heads=4))


class TestTransformerOwnWidth(BottleneckSuite):
    """Layers at a width other than output_dim (an output projection), no positions."""

    length_ratio = 1
    pooled_dims = (5,)

    def build_bottleneck(self, input_dim: int, output_dim: int,
                         pooled_dim: int | None) -> TransformerBottleneck:
        return TransformerBottleneck(TransformerBottleneckConfig(
            input_dim=input_dim, output_dim=output_dim, pooled_dim=pooled_dim, width=8,
            num_layers=1, num_heads=2, positional="none"))


@pytest.mark.parametrize(("fields", "message"), [
    ({"num_layer": 2}, "Extra inputs are not permitted"),
    ({"output_dim": 768, "num_heads": 10}, r"num_heads=10 must divide.*width \(= output_dim\)"),
    ({"width": 30, "num_heads": 4}, "num_heads=4 must divide every attention width, but width 30"),
    ({"num_layers": 0}, "greater than or equal to 1"),
    ({"mlp_ratio": 0}, "greater than 0"),
])
def test_config_rejects(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TransformerBottleneckConfig(**fields)


def test_registered_by_voxcore_sib() -> None:
    reset_plugins()
    entry = get_registry("bottleneck").get("transformer")
    assert entry.distribution == "voxcore-sib"
    assert entry.config_model is TransformerBottleneckConfig
    bottleneck = entry.build({"input_dim": 8, "output_dim": 6, "num_layers": 1, "num_heads": 2})
    assert isinstance(bottleneck, TransformerBottleneck)
    with pytest.raises(ValueError, match="input_dim is not set"):
        entry.build({"output_dim": 6, "num_heads": 2})


def test_paper_size_matches_table_8() -> None:
    with torch.device("meta"):
        transformer = TransformerBottleneck(TransformerBottleneckConfig(input_dim=1024,
                                                                        output_dim=768))
    count = sum(p.numel() for p in transformer.parameters())
    assert abs(count - PAPER_TRANSFORMER_PARAMS) <= PARAM_TOLERANCE * PAPER_TRANSFORMER_PARAMS, (
        f"the Transformer bottleneck at 1024 -> 768 has {count / 1e6:.2f} M parameters; the "
        "paper reports 71 M")
