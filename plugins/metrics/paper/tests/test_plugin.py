"""The plugin as voxcore sees it: cheap import, registration, configs, the added command."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError
from voxcore_metrics import CLIPScoreConfig, EmoAConfig, FIDConfig

from voxcore.cli import build_parser
from voxcore.plugin_api import get_registry


def test_importing_the_plugin_module_is_cheap() -> None:
    code = ("import sys, voxcore_metrics; "
            "bad = [m for m in ('torch', 'timm', 'transformers', 'pytorch_fid', 'scipy') "
            "if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("name", "config"), [("fid", FIDConfig), ("clipscore", CLIPScoreConfig),
                                              ("emo-a", EmoAConfig)])
def test_metrics_are_registered(fresh_plugins: None, name: str, config: type) -> None:
    entry = get_registry("metric").get(name)
    assert entry.distribution == "voxcore-metrics" and entry.config_model is config
    assert entry.description
    assert isinstance(entry.factory, str) and entry.factory.startswith("voxcore_metrics.")


def test_configs_forbid_unknown_keys_and_describe_fields() -> None:
    for model in (FIDConfig, CLIPScoreConfig, EmoAConfig):
        with pytest.raises(ValidationError):
            model.model_validate({"classifier": "x", "typo": 1})
        assert all(field.description for field in model.model_fields.values())
    with pytest.raises(ValidationError):
        EmoAConfig.model_validate({})  # the classifier folder has no default


def test_train_classifier_command_is_added(fresh_plugins: None) -> None:
    parser = build_parser()
    args = parser.parse_args(["train-classifier", "data", "--out", "o", "--epochs", "2"])
    assert args.epochs == 2 and callable(args.run)
