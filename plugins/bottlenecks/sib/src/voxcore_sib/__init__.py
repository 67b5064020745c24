"""voxcore plugin: the speech information bottleneck (``sib``), a plain ``transformer`` and the
pass-through ``identity`` (for Stable Diffusion's own text-to-image baseline).

Only config models and the registration hook live here, so loading the plugin imports no
torch; the modules are imported when a bottleneck is built.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from voxcore import hookimpl
from voxcore_sib.config import SibConfig, TransformerBottleneckConfig

__all__ = ["SibConfig", "TransformerBottleneckConfig", "IdentityConfig",
           "voxcore_register_bottlenecks"]


class IdentityConfig(BaseModel):
    """The ``identity`` bottleneck: the encoder's features are the condition tokens.

    Declared here rather than in :mod:`voxcore_sib.identity` so that registering it imports
    no torch.
    """

    model_config = ConfigDict(extra="forbid")

    input_dim: Annotated[int | None, Field(gt=0)] = Field(
        default=None, description="encoder width; None = filled in from the encoder")
    output_dim: Annotated[int | None, Field(gt=0)] = Field(
        default=None, description="generator cross-attention width; None = filled in from it")
    pooled_dim: Annotated[int | None, Field(gt=0)] = Field(
        default=None, description="width of the pooled vector (SDXL); None = no pooled output")
    project: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Linear projection of the tokens: 'auto' only when input_dim != "
                    "output_dim, 'always', or 'never' (then the widths must match)")


@hookimpl
def voxcore_register_bottlenecks(register: Any) -> None:
    """Register ``sib``, ``transformer`` and ``identity``."""
    register("sib", config=SibConfig, factory="voxcore_sib.sib:SpeechInformationBottleneck",
             description="speech information bottleneck: Transformer blocks + strided Conv1d "
                         "over time (VoxStudio Sec. 3.2), 8x fewer tokens by default")
    register("transformer", config=TransformerBottleneckConfig,
             factory="voxcore_sib.transformer:TransformerBottleneck",
             description="plain pre-norm Transformer, no length reduction (VoxStudio Table 8 "
                         "baseline)")
    register("identity", config=IdentityConfig,
             factory="voxcore_sib.identity:IdentityBottleneck",
             description="pass-through: the encoder's tokens and mask as the condition (Linear "
                         "only when widths differ); SD's own text-to-image baseline")
