"""``stats.json``, ``report.md``, ``caption_lengths.png`` and ``examples.md`` of a build."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voxcore.plugin_api import LabelledImage, atomic_path, write_text_atomic
from voxcore_voxemoset.outputs import output_image
from voxcore_voxemoset.stats import TABLE_COLUMNS, table_row, word_histogram

__all__ = ["build_stats", "write_report"]

_HEADERS = {"images": "images", "utterances": "utterances", "length_s": "length (s)",
            "words_per_caption": "words per caption", "nmos": "NMOS (DNSMOS)",
            "emo_c": "Emo-C", "dropped": "dropped"}
#: Failures listed one by one in the report before the rest are counted.
_LISTED = 20


def build_stats(records: Sequence[dict[str, Any]], splits: Sequence[str],
                emotions: Sequence[str], build: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the report: Table 1's columns per split (all classes and each class),
    over all splits, the caption-length histogram, and ``build`` (what was left out, the
    components)."""
    per_split: dict[str, Any] = {}
    for split in splits:
        in_split = [r for r in records if r["split"] == split]
        per_split[split] = {
            "all": table_row(in_split),
            "classes": {e: table_row([r for r in in_split if r["emotion"] == e])
                        for e in emotions},
        }
    return {"format": 1, "splits": per_split, "total": table_row(records),
            "caption_words": word_histogram(records), "build": build}


def write_report(out: Path, stats: dict[str, Any], records: Sequence[dict[str, Any]],
                 images: dict[str, LabelledImage], examples_per_class: int) -> None:
    """Write ``stats.json``, ``caption_lengths.png``, ``examples.md`` and ``report.md``."""
    write_text_atomic(out / "stats.json", json.dumps(stats, indent=2, sort_keys=True) + "\n")
    histogram = _plot_histogram(out / "caption_lengths.png", stats["caption_words"])
    write_text_atomic(out / "examples.md", _examples(out, records, images, examples_per_class))
    write_text_atomic(out / "report.md", _report(stats, histogram))


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) >= 10 else f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def _table(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    header = ["", *(_HEADERS[c] for c in TABLE_COLUMNS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([name, *(_cell(row[c]) for c in TABLE_COLUMNS)]) + " |"
              for name, row in rows]
    return lines


def _report(stats: dict[str, Any], histogram: bool) -> str:
    build = stats["build"]
    lines = ["# VoxEmoset build report", "",
             f"Images from {build['images_source']}; captions by {build['captioner']}, speech by "
             f"{build['synthesizer']}, emotion checked by {build['recognizer']} (an utterance "
             f"below {build['threshold']:g} is made again, up to {build['retries']} times, "
             "with another reference voice and seed, then dropped).", "",
             "Table 1's columns: length is the mean duration of an utterance, words the mean "
             "words per caption spoken, NMOS the mean DNSMOS overall score of a random sample "
             f"({stats['total']['nmos_utterances']} utterances; – when none were scored), "
             "Emo-C the recognizer's mean probability of the intended emotion.", ""]
    lines += ["## All splits", "", *_table([("total", stats["total"])] + [
        (split, figures["all"]) for split, figures in stats["splits"].items()]), ""]
    for split, figures in stats["splits"].items():
        lines += [f"## {split}", "", *_table(list(figures["classes"].items())), ""]
    lines += ["## Caption lengths", ""]
    lines += (["![words per caption](caption_lengths.png)", ""] if histogram else
              ["(no captions were spoken)", ""])
    lines += ["Examples of each class: [examples.md](examples.md).", "", "## Left out", ""]
    left = build["left_out"]
    lines.append("Images of classes not built: " + (", ".join(
        f"{name} {count}" for name, count in sorted(left.items())) or "none") + ".")
    for title, items in (("Images skipped", build["skipped_images"]),
                         ("Images whose captions failed", build["caption_failures"]),
                         ("Utterances dropped or failed", build["utterance_failures"])):
        lines += ["", f"{title}: {len(items)}.", ""]
        lines += [f"- {item}" for item in items[:_LISTED]]
        if len(items) > _LISTED:
            lines.append(f"- ... and {len(items) - _LISTED} more (failures.json)")
    return "\n".join(lines) + "\n"


def _examples(out: Path, records: Sequence[dict[str, Any]], images: dict[str, LabelledImage],
              per_class: int) -> str:
    lines = ["# VoxEmoset examples", "",
             "Each row: the image, the caption spoken, and a link to the utterance (a plain "
             "link: open it with any audio player).", ""]
    written = sorted((r for r in records if r.get("status") == "ok"), key=lambda r: r["id"])
    for split in dict.fromkeys(r["split"] for r in written):
        lines += [f"## {split}", "", "| emotion | image | caption | speech |", "|---|---|---|---|"]
        shown: dict[str, int] = {}
        for record in (r for r in written if r["split"] == split):
            emotion = record["emotion"]
            if shown.get(emotion, 0) >= per_class:
                continue
            shown[emotion] = shown.get(emotion, 0) + 1
            image = os.path.relpath(output_image(out, images[record["image"]]), out)
            lines.append(f"| {emotion} | ![{record['image']}]({image}) | {record['text']} | "
                         f"[{record['id']}.wav]({record['audio']}) |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _plot_histogram(path: Path, histogram: dict[str, list[int]]) -> bool:
    if not histogram["words"]:
        return False
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.2), dpi=120)
    axes.bar(histogram["words"], histogram["captions"], color="#4c72b0")
    axes.set_xlabel("words per caption")
    axes.set_ylabel("captions spoken")
    axes.set_title("VoxEmoset caption lengths (Fig. B1)")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    plt.close(figure)
    return True
