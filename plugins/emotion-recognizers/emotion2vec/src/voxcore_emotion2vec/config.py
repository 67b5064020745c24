"""Settings of the ``emotion2vec`` recognizer (a dataset builder's ``recognizer.config``).

Imported whenever voxcore loads its plugins, so nothing here imports torch or FunASR.
"""

from __future__ import annotations

from pydantic import Field

from voxcore.plugin_api import Precision, PretrainedSource

__all__ = ["DEFAULT_MODEL", "Emotion2vecConfig"]

#: The checkpoint the paper checks VoxEmoset's emotions with: emotion2vec+ large on the
#: Hugging Face hub (the same weights as ModelScope's ``iic/emotion2vec_plus_large``).
DEFAULT_MODEL = "emotion2vec/emotion2vec_plus_large"


class Emotion2vecConfig(PretrainedSource):
    """Settings of the ``emotion2vec`` speech emotion recognizer."""

    model: str = Field(
        default=DEFAULT_MODEL,
        description="emotion2vec+ checkpoint: a Hugging Face id (emotion2vec/emotion2vec_plus_"
                    "large, _base or _seed; looked up in the Hugging Face cache, downloaded "
                    "only when the hub is reachable), a ModelScope id (iic/emotion2vec_plus_"
                    "large, _base or _seed; looked up in the ModelScope cache, then as its "
                    "Hugging Face copy), or a local folder in FunASR's layout (config.yaml, "
                    "model.pt, tokens.txt), e.g. from `huggingface-cli download "
                    "emotion2vec/emotion2vec_plus_large --local-dir DIR`")
    batch_size: int = Field(
        default=8, ge=1,
        description="utterances run through the model at once (padded and masked: an "
                    "utterance scores the same in any batch)")
    dtype: Precision = Field(
        default="float32",
        description="precision the model runs in (FunASR's own is float32; float16 or "
                    "bfloat16 halve memory on a GPU). Probabilities come out float32")
