"""Speech quality of a random sample of utterances with DNSMOS (the report's NMOS column).

The paper measures NMOS (DNSMOS P.835) on 10k randomly sampled utterances per dataset.
DNSMOS's ONNX models ship in the PyPI package ``speechmos`` (install
``voxcore-voxemoset[dnsmos]``); scores are computed exactly as its ``run`` does (the clip
repeated to at least 9.01 s, every 9.01 s window one second apart, averaged), about 3 s of
CPU per 4 s utterance, which is why only a sample is scored. The sample is drawn from the
planned utterance ids with the build's seed, so every process scores its own share.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from voxcore.plugin_api import UserError
from voxcore_voxemoset.plan import Utterance, stable_int
from voxcore_voxemoset.progress import stage_progress
from voxcore_voxemoset.store import BuildStore

__all__ = ["QualityStage", "check_dnsmos_installed", "quality_sample"]

log = logging.getLogger(__name__)

_INSTALL = ("DNSMOS needs the 'speechmos' package and onnxruntime: pip install "
            "'voxcore-voxemoset[dnsmos]' (or set dnsmos_samples: 0)")


def check_dnsmos_installed() -> None:
    """:class:`UserError` saying what to install when DNSMOS cannot run."""
    try:
        import onnxruntime  # noqa: F401
        import speechmos.dnsmos  # noqa: F401
    except ImportError as exc:
        raise UserError(f"{_INSTALL} ({exc})") from None


def quality_sample(utterances: Sequence[Utterance], count: int, seed: int) -> set[str]:
    """The ids of ``count`` utterances drawn at random (the same in every process)."""
    ranked = sorted(utterances, key=lambda u: stable_int(seed, "quality", u.id))
    return {u.id for u in ranked[:count]}


@dataclass
class QualityStage:
    """Scores the sampled, written utterances of one process's share."""

    store: BuildStore
    progress: bool = True

    def run(self, utterances: Sequence[Utterance]) -> None:
        """Score each utterance that was written and has no score yet."""
        pending = []
        for utterance in utterances:
            record = self.store.read(self.store.utterance_path(utterance.image.split,
                                                               utterance.id))
            if record is None or record.get("status") != "ok" or "dnsmos" in record:
                continue
            pending.append((utterance, record))
        if not pending:
            return
        import soundfile
        from speechmos import dnsmos

        with stage_progress("DNSMOS", len(pending), self.progress) as bar:
            for utterance, record in pending:
                samples, rate = soundfile.read(self.store.out / record["audio"],
                                               dtype="float32")
                scores: dict[str, Any] = dnsmos.run(samples, rate)
                record["dnsmos"] = {key: round(float(scores[key]), 4) for key in
                                    ("ovrl_mos", "sig_mos", "bak_mos", "p808_mos")}
                self.store.write(self.store.utterance_path(utterance.image.split,
                                                           utterance.id), record)
                bar.update(1)

