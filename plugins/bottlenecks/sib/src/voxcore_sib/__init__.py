"""voxcore plugin: the speech information bottleneck (``sib``) and a plain ``transformer``.

Only config models and the registration hook live here, so loading the plugin imports no
torch; the modules are imported when a bottleneck is built.
"""

from __future__ import annotations

from typing import Any

from voxcore import hookimpl
from voxcore_sib.config import SibConfig, TransformerBottleneckConfig

__all__ = ["SibConfig", "TransformerBottleneckConfig", "voxcore_register_bottlenecks"]


@hookimpl
def voxcore_register_bottlenecks(register: Any) -> None:
    """Register ``sib`` and ``transformer``."""
    register("sib", config=SibConfig, factory="voxcore_sib.sib:SpeechInformationBottleneck",
             description="speech information bottleneck: Transformer blocks + strided Conv1d "
                         "over time (VoxStudio Sec. 3.2), 8x fewer tokens by default")
    register("transformer", config=TransformerBottleneckConfig,
             factory="voxcore_sib.transformer:TransformerBottleneck",
             description="plain pre-norm Transformer, no length reduction (VoxStudio Table 8 "
                         "baseline)")
