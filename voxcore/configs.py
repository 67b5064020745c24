"""Config building blocks plugins share: pydantic bases for the fields many components have.

- :class:`BottleneckConfig`: the widths every bottleneck declares (filled in from the encoder
  and generator when a recipe is assembled), with :meth:`BottleneckConfig.dims`;
- :class:`PretrainedSource`: the hub fields of a component that loads published weights
  (``revision``, ``cache_dir``; each component keeps its own ``model`` field and default);
- :class:`ComponentRef` and its kinds (:class:`DatasetRef`, :class:`EncoderRef`, and for
  dataset builders :class:`VoiceCorpusRef`, :class:`CaptionerRef`, :class:`SynthesizerRef`,
  :class:`EmotionRecognizerRef`): a registered component named inside another component's
  config (``train_data: {name, config}``). ``voxcore recipe check`` validates every one it
  finds against the registry;
- :data:`Precision`: the dtypes a frozen model may run in.

Everything here is plain pydantic (no torch), so a plugin's ``__init__`` may import it.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from voxcore.errors import ConfigProblem

__all__ = ["BottleneckConfig", "BottleneckWidths", "CaptionerRef", "ComponentRef", "DatasetRef",
           "EmotionRecognizerRef", "EncoderRef", "Precision", "PretrainedSource", "SynthesizerRef",
           "VoiceCorpusRef", "Width"]

#: A positive width, or ``None`` for "fill it in from the recipe".
Width = Annotated[int | None, Field(gt=0)]

#: Precisions a frozen pretrained model may run in (its outputs come back float32).
Precision = Literal["float32", "float16", "bfloat16"]


class BottleneckConfig(BaseModel):
    """Base of bottleneck configs: the three widths a recipe fills in.

    ``input_dim`` comes from the encoder's ``output_dim``, ``output_dim`` from the generator's
    ``cross_attention_dim`` and ``pooled_dim`` from the generator's ``pooled_dim``; a value
    written in the recipe must agree with them. Subclass it and add your own fields.

    :attr:`pooled_output` declares what the bottleneck does with a pooled vector, so that
    ``voxcore recipe check`` can tell whether it fits the generator before anything is built:
    ``"optional"`` (one when ``pooled_dim`` is set, as SIB does), ``"required"`` (it always
    gives one: the generator must take one) or ``"never"``.
    """

    model_config = ConfigDict(extra="forbid")

    pooled_output: ClassVar[Literal["optional", "required", "never"]] = "optional"

    input_dim: Width = Field(default=None,
                             description="encoder width; None = filled in from the encoder")
    output_dim: Width = Field(
        default=None, description="generator cross-attention width; None = filled in from it")
    pooled_dim: Width = Field(
        default=None, description="width of the pooled vector; None = filled in from the "
                                  "generator (None there: no pooled output)")

    def dims(self) -> tuple[int, int]:
        """``(input_dim, output_dim)``; :class:`ConfigProblem` when either is not set."""
        missing = [key for key, value in (("input_dim", self.input_dim),
                                          ("output_dim", self.output_dim)) if value is None]
        if missing:
            are = "is" if len(missing) == 1 else "are"
            raise ConfigProblem(missing[0], f"{' and '.join(missing)} {are} not set. A recipe "
                                            "fills them in from its encoder (input_dim) and "
                                            "generator (output_dim); when building the "
                                            "bottleneck directly, pass them in the config")
        assert self.input_dim is not None and self.output_dim is not None
        return int(self.input_dim), int(self.output_dim)


class BottleneckWidths:
    """Mixin for a bottleneck module: :meth:`adopt_widths` keeps its config and the widths the
    :class:`~voxcore.interfaces.Bottleneck` interface exposes."""

    config: BottleneckConfig
    input_dim: int
    output_dim: int
    pooled_dim: int | None

    def adopt_widths(self, config: BottleneckConfig) -> tuple[int, int]:
        """Set ``config``, ``input_dim``, ``output_dim`` and ``pooled_dim`` from ``config``
        (:class:`ConfigProblem` for a width that is not set); ``(input_dim, output_dim)``."""
        input_dim, output_dim = config.dims()
        self.config = config
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.pooled_dim = config.pooled_dim
        return input_dim, output_dim


class PretrainedSource(BaseModel):
    """Base of configs that name published weights: the hub fields besides ``model``."""

    model_config = ConfigDict(extra="forbid")

    revision: str | None = Field(default=None, description="hub revision (branch, tag, commit)")
    cache_dir: str | None = Field(default=None,
                                  description="Hugging Face cache folder; None = HF_HUB_CACHE")


class ComponentRef(BaseModel):
    """A registered component, by name and config, named inside a component's config."""

    model_config = ConfigDict(extra="forbid")

    #: The registry kind ``name`` is looked up in.
    kind: ClassVar[str] = "dataset"

    name: str = Field(min_length=1, description="registered name (see 'voxcore plugins')")
    config: dict[str, Any] = Field(default_factory=dict,
                                   description="that component's config (validated when built)")


class DatasetRef(ComponentRef):
    """A registered dataset and its config, as in a recipe's ``data`` section."""

    kind: ClassVar[str] = "dataset"


class EncoderRef(ComponentRef):
    """A registered encoder and its config, as in a recipe's ``encoder`` section."""

    kind: ClassVar[str] = "encoder"


class VoiceCorpusRef(ComponentRef):
    """A registered reference-voice corpus and its config (``{name: crema-d, config: ...}``)."""

    kind: ClassVar[str] = "voice_corpus"


class CaptionerRef(ComponentRef):
    """A registered image captioner and its config."""

    kind: ClassVar[str] = "captioner"


class SynthesizerRef(ComponentRef):
    """A registered speech synthesizer and its config."""

    kind: ClassVar[str] = "synthesizer"


class EmotionRecognizerRef(ComponentRef):
    """A registered speech emotion recognizer and its config."""

    kind: ClassVar[str] = "emotion_recognizer"
