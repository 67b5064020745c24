"""The ``identity`` bottleneck: the conformance suite, pass-through exactness, config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pydantic import ValidationError
from voxcore_sib import IdentityConfig
from voxcore_sib.identity import IdentityBottleneck

from voxcore.plugin_api import SpeechFeatures, get_registry, load_module, save_module
from voxcore.testing import reset_plugins
from voxcore.testing.bottleneck import BottleneckSuite


class TestIdentityProjected(BottleneckSuite):
    """``auto`` with different widths (16 -> 24): a Linear projection."""

    length_ratio = 1

    def build_bottleneck(self, input_dim: int, output_dim: int,
                         pooled_dim: int | None) -> IdentityBottleneck:
        return IdentityBottleneck(IdentityConfig(input_dim=input_dim, output_dim=output_dim,
                                                 pooled_dim=pooled_dim))


class TestIdentityPassThrough(BottleneckSuite):
    """``auto`` with equal widths: no projection and no parameters.

    Only ``pooled_dim=None``: with a pooled head the tokens are still parameter-free, and the
    suite's state-dict check wants tokens that differ between seeds (it only compares tokens);
    :func:`test_pass_through_pooled_head_round_trips` covers that case.
    """

    length_ratio = 1
    output_dim = 16
    pooled_dims = (None,)

    def build_bottleneck(self, input_dim: int, output_dim: int,
                         pooled_dim: int | None) -> IdentityBottleneck:
        return IdentityBottleneck(IdentityConfig(input_dim=input_dim, output_dim=output_dim,
                                                 pooled_dim=pooled_dim))


class TestIdentityAlwaysProjects(BottleneckSuite):
    length_ratio = 1
    output_dim = 16
    pooled_dims = (12,)

    def build_bottleneck(self, input_dim: int, output_dim: int,
                         pooled_dim: int | None) -> IdentityBottleneck:
        return IdentityBottleneck(IdentityConfig(input_dim=input_dim, output_dim=output_dim,
                                                 pooled_dim=pooled_dim, project="always"))


def _features() -> SpeechFeatures:
    values = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(0))
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    return SpeechFeatures(values, mask, frame_rate=1.0)


def test_passes_features_through_unchanged() -> None:
    bottleneck = IdentityBottleneck(IdentityConfig(input_dim=8, output_dim=8))
    assert bottleneck.proj is None and not list(bottleneck.parameters())
    assert not bottleneck.state_dict()
    features = _features()
    out = bottleneck(features)
    assert torch.equal(out.mask, features.mask) and out.pooled is None
    assert torch.equal(out.tokens[out.mask], features.features[features.mask])
    assert bool((out.tokens[~out.mask] == 0).all())


def test_projection_choice() -> None:
    assert IdentityBottleneck(IdentityConfig(input_dim=8, output_dim=4)).proj is not None
    always = IdentityBottleneck(IdentityConfig(input_dim=8, output_dim=8, project="always"))
    assert always.proj is not None
    with pytest.raises(ValueError, match=r"project='never'.*\(8\) differs.*\(4\)"):
        IdentityBottleneck(IdentityConfig(input_dim=8, output_dim=4, project="never"))


def test_pooled_is_a_masked_mean_then_linear() -> None:
    bottleneck = IdentityBottleneck(IdentityConfig(input_dim=8, output_dim=8, pooled_dim=3))
    assert bottleneck.pooled is not None
    features = _features()
    out = bottleneck(features)
    assert out.pooled is not None
    mean = features.features[1, :2].mean(dim=0)
    torch.testing.assert_close(out.pooled[1], bottleneck.pooled.proj(mean))


def test_pass_through_pooled_head_round_trips(tmp_path: Path) -> None:
    def build(seed: int) -> IdentityBottleneck:
        torch.manual_seed(seed)
        return IdentityBottleneck(IdentityConfig(input_dim=8, output_dim=8, pooled_dim=3))

    source, target = build(0), build(1)
    assert set(source.state_dict()) == {"pooled.proj.weight", "pooled.proj.bias"}
    want = source(_features()).pooled
    assert want is not None and not torch.equal(want, target(_features()).pooled)
    save_module(source, tmp_path / "identity.safetensors")
    load_module(target, tmp_path / "identity.safetensors")
    assert torch.equal(target(_features()).pooled, want)


def test_needs_its_widths() -> None:
    with pytest.raises(ValueError, match="input_dim and output_dim are not set"):
        IdentityBottleneck(IdentityConfig())


def test_config() -> None:
    config = IdentityConfig()
    assert (config.input_dim, config.output_dim, config.pooled_dim, config.project) == (
        None, None, None, "auto")
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        IdentityConfig.model_validate({"width": 3})
    with pytest.raises(ValidationError, match="'auto', 'always' or 'never'"):
        IdentityConfig.model_validate({"project": "sometimes"})
    with pytest.raises(ValidationError, match="greater than 0"):
        IdentityConfig.model_validate({"output_dim": 0})


def test_registered() -> None:
    reset_plugins()
    entry = get_registry("bottleneck").get("identity")
    assert entry.distribution == "voxcore-sib"
    built = entry.build({"input_dim": 8, "output_dim": 8})
    assert isinstance(built, IdentityBottleneck)
