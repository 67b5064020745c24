"""Parameter counts of the paper's full-size parts and of its Table 5 training modes.

Everything is built on the ``meta`` device (no weights, no memory, no download), from the
published architectures written down in the plugins::

    uv run python benchmarks/paper_sizes.py

Prints the SONAR English speech encoder without its pooler, the Whisper-large-v3 encoder,
the SD1.5 and SDXL UNets and the VAE, then the trainable parameters of SONAR-width features ->
SIB -> SD1.5 trained frozen, with LoRA and fully, next to the paper's Table 5
(50.0 M / 50.7 M / 909.1 M).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

warnings.filterwarnings("ignore", message="User provided device_type of 'cuda'")

from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel  # noqa: E402
from voxcore_sd import Sd15Config  # noqa: E402
from voxcore_sd.architectures import SD15_UNET, SD_VAE, SDXL_UNET  # noqa: E402
from voxcore_sd.generator import StableDiffusionGenerator  # noqa: E402
from voxcore_sib import SibConfig  # noqa: E402
from voxcore_sib.sib import SpeechInformationBottleneck  # noqa: E402
from voxcore_sonar.encoder import arch_config  # noqa: E402
from voxcore_sonar.encoder import encoder_from_architecture as sonar_encoder  # noqa: E402
from voxcore_whisper.architectures import whisper_config  # noqa: E402
from voxcore_whisper.encoder import encoder_from_architecture  # noqa: E402

#: Trainable parameters of the paper's Table 5 (SONAR + SIB + SD1.5), in millions.
TABLE_5 = {"frozen": 50.0, "lora": 50.7, "full": 909.1}
#: SONAR's speech encoder width (the SIB's input) and SD1.5's cross-attention width.
SONAR_DIM, SD15_DIM = 1024, 768


def count(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def table_5() -> dict[str, int]:
    """Trainable parameters of SIB + the SD1.5 generator in each training mode."""
    with torch.device("meta"):
        sib = SpeechInformationBottleneck(SibConfig(input_dim=SONAR_DIM, output_dim=SD15_DIM))
    rows = {}
    for mode in TABLE_5:
        with torch.device("meta"):
            generator = StableDiffusionGenerator(
                Sd15Config(train_mode=mode), UNet2DConditionModel(**SD15_UNET),
                AutoencoderKL(**SD_VAE), DDPMScheduler(), xl=False)
        rows[mode] = count(sib) + count(generator, trainable_only=True)
    return rows


def main() -> None:
    with torch.device("meta"):
        sizes = {
            "SONAR speech encoder (eng)": count(sonar_encoder(arch_config("english"),
                                                              device="meta")),
            "Whisper-large-v3 encoder": count(
                encoder_from_architecture(whisper_config(), device="meta")),
            "SD1.5 UNet": count(UNet2DConditionModel(**SD15_UNET)),
            "SDXL UNet": count(UNet2DConditionModel(**SDXL_UNET)),
            "SD VAE": count(AutoencoderKL(**SD_VAE)),
        }
    print("full-size parts (meta device)")
    for name, value in sizes.items():
        print(f"  {name:26s} {value / 1e6:10.1f} M  ({value:,})")
    print("trainable parameters, SONAR-width features -> SIB -> SD1.5 (paper Table 5)")
    for mode, value in table_5().items():
        print(f"  {mode:8s} {value / 1e6:8.1f} M   paper {TABLE_5[mode]:6.1f} M")


if __name__ == "__main__":
    main()
