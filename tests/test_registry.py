"""Registry lookups, error messages and registration checks."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from voxcore.errors import AmbiguousComponentError, UnknownComponentError
from voxcore.registry import ComponentEntry, Registry, check_registration


class StrictConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = 3


class LooseConfig(BaseModel):
    size: int = 3


def entry(name: str, dist: str, factory: object = dict) -> ComponentEntry:
    return ComponentEntry(kind="encoder", name=name, config_model=StrictConfig,
                          factory=factory, distribution=dist, version="1.2", plugin=dist)  # type: ignore[arg-type]


def test_get_and_build() -> None:
    registry = Registry("encoder")
    registry.add(entry("mel", "voxcore-mel", factory=lambda cfg: ("built", cfg.size)))
    assert registry.get("mel").distribution == "voxcore-mel"
    assert registry.build("mel", {"size": 5}) == ("built", 5)
    assert "mel" in registry and "nope" not in registry


def test_unknown_name_suggests_and_lists_installed() -> None:
    registry = Registry("encoder")
    registry.add(entry("whisper", "voxcore-whisper"))
    registry.add(entry("sonar", "voxcore-sonar"))
    with pytest.raises(UnknownComponentError) as info:
        registry.get("wisper")
    message = str(info.value)
    assert "did you mean 'whisper'?" in message
    assert "installed encoders: sonar, whisper" in message


def test_duplicate_names_need_a_distribution() -> None:
    registry = Registry("encoder")
    registry.add(entry("mel", "voxcore-mel"))
    registry.add(entry("mel", "acme-audio"))
    with pytest.raises(AmbiguousComponentError) as info:
        registry.get("mel")
    assert "voxcore-mel 1.2" in str(info.value) and "acme-audio 1.2" in str(info.value)
    assert "'acme-audio:mel'" in str(info.value)
    assert registry.get("acme-audio:mel").distribution == "acme-audio"
    assert registry.get("Acme_Audio:mel").distribution == "acme-audio"  # normalized
    with pytest.raises(UnknownComponentError):
        registry.get("other-dist:mel")


def test_factory_string_is_imported_only_when_built() -> None:
    lazy = entry("lazy", "x", factory="json:loads")
    assert lazy.resolve_factory()("[1]") == [1]


def test_config_is_validated_before_the_factory_runs() -> None:
    calls = []
    registry = Registry("encoder")
    registry.add(entry("mel", "voxcore-mel", factory=calls.append))
    with pytest.raises(Exception, match="extra"):
        registry.build("mel", {"sise": 3})
    assert calls == []


@pytest.mark.parametrize(
    ("kind", "name", "config", "factory", "message"),
    [
        ("encoder", "Mel", StrictConfig, dict, "lowercase"),
        ("encoder", "mel", dict, dict, "pydantic model class"),
        ("encoder", "mel", LooseConfig, dict, "extra='forbid'"),
        ("encoder", "mel", StrictConfig, "not a path", "module:attribute"),
        ("encoder", "mel", StrictConfig, 42, "callable"),
        ("bottleneck", "sib", StrictConfig, dict, "input_dim, output_dim, pooled_dim"),
    ],
)
def test_bad_registrations_are_rejected(kind, name, config, factory, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        check_registration(kind, name, config, factory)
