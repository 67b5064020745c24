"""voxcore plugin: the speech information bottleneck (``sib``), a plain ``transformer`` and the
pass-through ``identity`` (for Stable Diffusion's own text-to-image baseline).

Only config models and the registration hook live here, so loading the plugin imports no
torch; the modules are imported when a bottleneck is built. Public names (for plugins that
build on this one): the configs, and :class:`SpeechInformationBottleneck`,
:class:`TransformerBottleneck`, :class:`IdentityBottleneck` (imported on first use).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from voxcore.plugin_api import BottleneckConfig, hookimpl
from voxcore_sib.config import SibConfig, TransformerBottleneckConfig

if TYPE_CHECKING:
    from voxcore_sib.identity import IdentityBottleneck
    from voxcore_sib.sib import SpeechInformationBottleneck
    from voxcore_sib.transformer import TransformerBottleneck

__all__ = ["IdentityBottleneck", "IdentityConfig", "SibConfig", "SpeechInformationBottleneck",
           "TransformerBottleneck", "TransformerBottleneckConfig",
           "voxcore_register_bottlenecks"]

_LAZY = {"SpeechInformationBottleneck": "voxcore_sib.sib",
         "TransformerBottleneck": "voxcore_sib.transformer",
         "IdentityBottleneck": "voxcore_sib.identity"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'voxcore_sib' has no attribute {name!r}")


class IdentityConfig(BottleneckConfig):
    """The ``identity`` bottleneck: the encoder's features are the condition tokens.

    Declared here rather than in :mod:`voxcore_sib.identity` so that registering it imports
    no torch.
    """

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
