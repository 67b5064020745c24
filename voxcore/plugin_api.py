"""The plugin API (version 2): everything a voxcore plugin may import from voxcore.

A plugin imports voxcore only from here (and its tests also from :mod:`voxcore.testing`);
every other module of voxcore is internal and may change in any release. The API follows
voxcore's version: names are added in minor releases and removed or changed only in a new
major one (before 1.0: a new minor one), so a plugin declares ``voxcore>=X.Y,<X.(Y+1)`` (or
``<(X+1)`` from 1.0 on) and voxcore skips it, with the reason, when the running version is
outside that range. :data:`API_VERSION` names this surface.

Importing this module is cheap and imports no torch, so a plugin's ``__init__`` (imported
whenever voxcore loads plugins) may use it for its config models and hooks. The names that
need torch (layers, audio, diffusion helpers) are imported the first time they are used.

What is here:

- hooks: :data:`hookimpl`; the contracts: every Protocol and data type of
  :mod:`voxcore.interfaces`, optional abilities included, and of :mod:`voxcore.stages` (the
  components dataset builders run: :class:`VoiceCorpus`, :class:`Captioner`,
  :class:`SpeechSynthesizer`, :class:`SpeechEmotionRecognizer`, their data types and
  :data:`PAPER_EMOTIONS` / :data:`CANONICAL_EMOTIONS`);
- config bases: :class:`BottleneckConfig` (with :class:`BottleneckWidths` for the module),
  :class:`PretrainedSource`, :class:`DatasetRef`,
  :class:`EncoderRef`, :class:`ComponentRef`, :class:`VoiceCorpusRef`, :class:`CaptionerRef`,
  :class:`SynthesizerRef`, :class:`EmotionRecognizerRef`, :data:`Precision`, :data:`Width`;
- errors: :class:`UserError`, :class:`ConfigProblem`, :class:`AudioError`,
  :class:`DatasetError`, :class:`PreparationMissing`, :class:`CannotCheck`,
  :class:`PretrainedNotFoundError`, :class:`RecipeError`, :class:`RecipeIssue`;
- building blocks without torch: :func:`checking` (recipe-check assembly), the registries
  (:func:`get_registry`), JSONL manifests (:class:`ManifestDataset`, :class:`SampleList`,
  :func:`read_manifest`, :func:`write_manifest`), :func:`cache_beside`, pretrained weights
  (:func:`resolve_pretrained`, :func:`folder_fingerprint`, :func:`hub_cache_dir`), atomic
  safetensors I/O (:func:`write_text_atomic`, :func:`save_tensors`, :func:`load_tensors`,
  :func:`atomic_path`, :func:`save_module`, :func:`load_module`), input checks
  (:func:`check_images`, :func:`check_texts`, :func:`layer_index`), for commands
  (:func:`parse_overrides`, :func:`pydantic_issues`, :func:`configure_logging`,
  :func:`find_recipe`);
- building blocks with torch (imported on first use): audio (:func:`load_audio`,
  :func:`to_mono_batch`, :func:`lengths_to_mask`), masked layers (:class:`TransformerBlock`,
  :class:`SelfAttention`, :func:`zero_padding`, :func:`masked_mean`,
  :func:`sinusoidal_positions`, :func:`pad_features`), diffusion generators
  (:class:`LearnedNullCondition`, :func:`diffusion_loss`, :func:`diffusion_target`,
  :func:`masked_tokens`, :func:`random_timesteps`, :func:`seeded_randn`,
  :func:`seeded_generators`, :func:`generator_for_item`, :func:`replace_dropped`,
  :func:`stack_conditions`, :func:`check_condition`,
  :func:`check_drop`, :func:`check_edit`, :func:`check_images_shape`,
  :func:`min_snr_weights`, :func:`pad_tokens`), metrics (:class:`TensorState`,
  :class:`RunningGaussian`, :func:`frechet_distance`);
- components named inside a config (``{name, config}`` sections, as dataset builders name
  their stages): :func:`check_references`, :func:`build_component` (preparing it first when
  it learns from data) and :class:`BuiltComponent`; :func:`blame` and :class:`PartLabel`, so
  an exception inside another plugin's component names it; :func:`current_processes` and
  :class:`Processes`, to split work among ``accelerate launch``-ed processes;
- workflows, for plugins that add commands running whole jobs (the quickstart): recipes
  (:func:`load_recipe`, :class:`ResolvedRecipe`), :func:`train`, :func:`evaluate`, runs
  (:func:`load_run`, :class:`LoadedRun` and its :class:`VoxModel`, :class:`RunDir`,
  :func:`cache_root`), sampling
  (:func:`generate_images`, :func:`settings_with`, :func:`prompt_inputs`,
  :func:`generate_for`), editing (:func:`edit_images`), images
  (:func:`load_image`, :func:`save_image`, :func:`to_pil`, :func:`image_grid`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from voxcore.check_mode import checking
from voxcore.checks import check_images, check_texts, layer_index
from voxcore.components import BuiltComponent, build_component, check_references
from voxcore.configs import (
    BottleneckConfig,
    BottleneckWidths,
    CaptionerRef,
    ComponentRef,
    DatasetRef,
    EmotionRecognizerRef,
    EncoderRef,
    Precision,
    PretrainedSource,
    SynthesizerRef,
    VoiceCorpusRef,
    Width,
)
from voxcore.data import (
    MANIFEST_FIELDS,
    MAX_LISTED,
    DatasetError,
    ManifestDataset,
    SampleList,
    cache_beside,
    read_manifest,
    write_manifest,
)
from voxcore.errors import (
    AudioError,
    CannotCheck,
    ConfigProblem,
    PreparationMissing,
    RecipeError,
    RecipeIssue,
    UnknownComponentError,
    UserError,
)
from voxcore.failures import PartLabel, blame
from voxcore.hookspecs import hookimpl
from voxcore.hub import (
    PretrainedNotFoundError,
    folder_fingerprint,
    hub_cache_dir,
    resolve_pretrained,
)
from voxcore.interfaces import (
    ABILITIES,
    Bottleneck,
    Condition,
    Dataset,
    DatasetBuilder,
    DeclaresMinimumDuration,
    EvalBatch,
    HasWeightsFingerprint,
    ImageGenerator,
    ListsSchedulers,
    LocatedDataset,
    MergesState,
    Metric,
    Preparation,
    Sample,
    SpeechEncoder,
    SpeechFeatures,
    SupportsEditing,
    SupportsGradientCheckpointing,
    SupportsInterop,
    SupportsLatentCache,
    TextEncoder,
    Transcriber,
    Waveform,
)
from voxcore.io import (
    atomic_path,
    file_digest,
    load_module,
    load_tensors,
    save_module,
    save_tensors,
    unique_names,
    write_text_atomic,
)
from voxcore.recipe import ResolvedRecipe, load_recipe
from voxcore.recipe.loading import parse_overrides
from voxcore.recipe.shipped import find_recipe
from voxcore.recipe.validation import pydantic_issues
from voxcore.runs import LoadedRun, RunDir, cache_root
from voxcore.runs import load as load_run
from voxcore.stages import (
    CANONICAL_EMOTIONS,
    PAPER_EMOTIONS,
    Captioner,
    LabelledImage,
    ReferenceVoice,
    SpeechEmotionRecognizer,
    SpeechSynthesizer,
    SynthesisRequest,
    VoiceCorpus,
)

if TYPE_CHECKING:
    from voxcore.audio import lengths_to_mask, load_audio, to_mono_batch
    from voxcore.batching import pad_features
    from voxcore.conditioning import (
        NULL_INIT_STD,
        LearnedNullCondition,
        check_condition,
        check_drop,
        check_edit,
        check_images_shape,
        diffusion_loss,
        diffusion_target,
        generator_for_item,
        masked_tokens,
        min_snr_weights,
        pad_tokens,
        random_timesteps,
        replace_dropped,
        seeded_generators,
        seeded_randn,
        stack_conditions,
    )
    from voxcore.evaluation import evaluate
    from voxcore.images import image_grid, load_image, save_image, to_pil
    from voxcore.inference import edit_images, generate_images, settings_with
    from voxcore.metric_state import TensorState
    from voxcore.model import VoxModel
    from voxcore.nn import (
        SelfAttention,
        TransformerBlock,
        masked_mean,
        sinusoidal_positions,
        zero_padding,
    )
    from voxcore.processes import Processes, current_processes
    from voxcore.prompts import generate_for, prompt_inputs
    from voxcore.stats import RunningGaussian, frechet_distance
    from voxcore.training.trainer import train

__all__ = [
    "BuiltComponent", "PartLabel", "Processes", "blame", "build_component", "check_references",
    "current_processes", "CANONICAL_EMOTIONS", "PAPER_EMOTIONS", "Captioner",
    "CaptionerRef",
    "EmotionRecognizerRef",
    "LabelledImage", "ReferenceVoice", "SpeechEmotionRecognizer", "SpeechSynthesizer",
    "SynthesisRequest", "SynthesizerRef", "VoiceCorpus", "VoiceCorpusRef",
    "ABILITIES", "API_VERSION", "MANIFEST_FIELDS", "MAX_LISTED", "NULL_INIT_STD", "AudioError",
    "Bottleneck", "BottleneckConfig", "BottleneckWidths", "CannotCheck", "ComponentRef",
    "Condition", "ConfigProblem",
    "Dataset", "DatasetBuilder", "DatasetError", "DatasetRef", "DeclaresMinimumDuration",
    "EncoderRef", "EvalBatch", "HasWeightsFingerprint", "ImageGenerator", "LearnedNullCondition",
    "ListsSchedulers", "LoadedRun", "LocatedDataset", "ManifestDataset", "MergesState", "Metric",
    "Precision",
    "Preparation", "PreparationMissing", "PretrainedNotFoundError", "PretrainedSource",
    "RecipeError", "RecipeIssue", "ResolvedRecipe", "RunDir", "RunningGaussian", "Sample",
    "SampleList", "SelfAttention", "SpeechEncoder", "SpeechFeatures", "SupportsEditing",
    "SupportsGradientCheckpointing", "SupportsInterop", "SupportsLatentCache", "TensorState",
    "TextEncoder", "Transcriber", "TransformerBlock", "UnknownComponentError", "UserError",
    "VoxModel", "Waveform", "Width",
    "atomic_path", "cache_beside", "cache_root", "check_condition", "check_drop", "check_edit",
    "check_images", "check_images_shape", "check_texts", "checking", "configure_logging",
    "diffusion_loss", "diffusion_target", "edit_images", "evaluate", "file_digest", "find_recipe",
    "folder_fingerprint", "frechet_distance", "generate_for", "generate_images", "get_registry",
    "hookimpl", "hub_cache_dir", "image_grid", "layer_index", "lengths_to_mask", "load_audio",
    "load_image", "load_module", "load_recipe", "load_run", "load_tensors", "masked_mean",
    "masked_tokens", "min_snr_weights", "pad_features", "pad_tokens", "parse_overrides",
    "prompt_inputs", "pydantic_issues", "random_timesteps", "read_manifest", "replace_dropped",
    "resolve_pretrained", "save_image", "save_module", "save_tensors", "seeded_randn",
    "seeded_generators", "generator_for_item",
    "settings_with", "sinusoidal_positions", "stack_conditions", "to_mono_batch", "to_pil",
    "train", "unique_names",
    "write_manifest", "write_text_atomic", "zero_padding",
]

#: The version of this surface (see the module docstring).
API_VERSION = 2

#: Names that need torch, by the module they are imported from on first use.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("load_audio", "to_mono_batch", "lengths_to_mask"), "voxcore.audio"),
    "pad_features": "voxcore.batching",
    **dict.fromkeys(("NULL_INIT_STD", "LearnedNullCondition", "check_condition", "check_drop",
                     "check_edit", "check_images_shape", "diffusion_loss", "diffusion_target",
                     "masked_tokens", "min_snr_weights", "pad_tokens", "random_timesteps",
                     "replace_dropped", "seeded_randn", "seeded_generators", "generator_for_item",
                     "stack_conditions"),
                    "voxcore.conditioning"),
    "TensorState": "voxcore.metric_state",
    **dict.fromkeys(("SelfAttention", "TransformerBlock", "masked_mean", "sinusoidal_positions",
                     "zero_padding"), "voxcore.nn"),
    **dict.fromkeys(("RunningGaussian", "frechet_distance"), "voxcore.stats"),
    "evaluate": "voxcore.evaluation",
    **dict.fromkeys(("image_grid", "load_image", "save_image", "to_pil"), "voxcore.images"),
    **dict.fromkeys(("edit_images", "generate_images", "settings_with"), "voxcore.inference"),
    **dict.fromkeys(("generate_for", "prompt_inputs"), "voxcore.prompts"),
    **dict.fromkeys(("Processes", "current_processes"), "voxcore.processes"),
    "train": "voxcore.training.trainer",
    "VoxModel": "voxcore.model",
}


def get_registry(kind: str) -> Any:
    """The registry of one component kind (``"encoder"``, ``"dataset"``, ...), loading the
    plugins first if needed: for a plugin that builds another registered component."""
    from voxcore.plugins import get_registry as registry

    return registry(kind)  # type: ignore[arg-type]


def configure_logging() -> None:
    """INFO messages of voxcore and every loaded plugin's package to stderr (for commands a
    plugin adds with ``voxcore_add_commands``)."""
    from voxcore.cli.logs import configure_logging as configure

    configure()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'voxcore.plugin_api' has no attribute {name!r}")
