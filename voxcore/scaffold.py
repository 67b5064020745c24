"""``voxcore new plugin KIND NAME``: a new plugin distribution from voxcore's template.

The template of each kind (``voxcore/templates/plugin/<kind>/``) is a small *working*
component of that kind, its config model, the hook that registers it, tests that subclass
voxcore's conformance suite, an example that uses it (a recipe, or for the components of
dataset builders a ``voxcore data voxemoset`` config) and a README. Placeholders such as
``__NAME__`` are replaced; nothing else is generated, so what you get is what the tests check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxcore.errors import UserError

__all__ = ["KINDS", "PluginNames", "render_plugin"]

_TEMPLATES = Path(__file__).parent / "templates" / "plugin"
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class _Kind:
    folder: str
    text: str
    article: str
    module: str
    suffix: str
    description: str
    usage: str
    dependencies: tuple[str, ...] = ("torch",)
    #: The example that uses the component, and what it is for (a row of the README).
    example: str = "recipe.yaml"
    example_text: str = "a recipe that uses it by name: `voxcore recipe check recipe.yaml`"
    #: The first voxcore with everything the template uses (its plugin API names).
    since: tuple[int, int, int] = (0, 0, 0)
    plural: str = ""  # "" for text + "s"


_BUILD_USAGE = ("voxcore data voxemoset --config build.yaml --out data/voxemoset-__NAME__\n"
                "# needs voxcore-voxemoset; set the paths in build.yaml first")
_BUILD_EXAMPLE: dict[str, Any] = {
    "example": "build.yaml",
    "example_text": "a `voxcore data voxemoset --config build.yaml --out DIR` config that "
                    "names it",
    "since": (0, 3, 1),
}

#: The kinds a plugin can be made for, by the name ``voxcore new plugin`` takes.
KINDS: dict[str, _Kind] = {
    "encoder": _Kind("encoder", "speech encoder", "a", "encoder", "Encoder",
                     "log band energies of the speech, no weights",
                     "voxcore recipe check recipe.yaml   # with data/voxshapes built\n"
                     "voxcore train recipe.yaml train.max_steps=5"),
    "bottleneck": _Kind("bottleneck", "bottleneck", "a", "bottleneck", "Bottleneck",
                        "strided masked mean of the frames, then a Linear",
                        "voxcore recipe check recipe.yaml   # with data/voxshapes built\n"
                        "voxcore train recipe.yaml train.max_steps=5"),
    "generator": _Kind("generator", "image generator", "an", "generator", "Generator",
                       "small pixel-space diffusion model with cross-attention, plain torch",
                       "voxcore recipe check recipe.yaml   # with data/voxshapes built\n"
                       "voxcore train recipe.yaml train.max_steps=5"),
    "metric": _Kind("metric", "metric", "a", "metric", "Metric",
                    "mean colourfulness of the generated images",
                    "voxcore recipe check recipe.yaml\n"
                    "voxcore evaluate RUN_DIR           # a run of a recipe listing it"),
    "dataset": _Kind("dataset", "dataset", "a", "dataset", "Dataset",
                     "a folder of ID.wav + ID.png pairs (and ID.txt transcripts)",
                     "voxcore recipe check recipe.yaml data.train.0.config.root=PAIRS"),
    "dataset-builder": _Kind("dataset_builder", "dataset builder", "a", "builder", "Builder",
                             "tones whose pitch names the colour of a square",
                             "voxcore data __NAME__ --out data/__NAME__ size=40\n"
                             "voxcore recipe check recipe.yaml",
                             ("torch", "numpy>=1.26", "pillow>=10", "soundfile>=0.12")),
    # The components a dataset builder runs (voxcore.stages), named in its config.
    "voice-corpus": _Kind("voice_corpus", "voice corpus", "a", "corpus", "Corpus",
                          "a folder of <emotion>/<speaker>_<n>.wav recordings, "
                          "speaker-disjoint splits",
                          _BUILD_USAGE, (), plural="voice corpora", **_BUILD_EXAMPLE),
    "captioner": _Kind("captioner", "captioner", "a", "captioner", "Captioner",
                       "factual captions from an image's pixels (colour, brightness, shape)",
                       _BUILD_USAGE, ("pillow>=10",), **_BUILD_EXAMPLE),
    "synthesizer": _Kind("synthesizer", "speech synthesizer", "a", "synthesizer",
                         "Synthesizer",
                         "a tone per syllable, pitch, loudness and speed from the "
                         "reference's emotion",
                         _BUILD_USAGE, **_BUILD_EXAMPLE),
    "emotion-recognizer": _Kind("emotion_recognizer", "speech emotion recognizer", "a",
                                "recognizer", "Recognizer",
                                "emotions from loudness, zero crossings and duration "
                                "through a fixed linear map",
                                _BUILD_USAGE, **_BUILD_EXAMPLE),
}


@dataclass(frozen=True)
class PluginNames:
    """The names a plugin is known by: component, distribution, module, classes."""

    kind: str
    name: str

    @property
    def distribution(self) -> str:
        return self.name if self.name.startswith("voxcore-") else f"voxcore-{self.name}"

    @property
    def module(self) -> str:
        return self.distribution.replace("-", "_")

    @property
    def camel(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("-"))

    @property
    def component_class(self) -> str:
        return self.camel + KINDS[self.kind].suffix

    @property
    def config_class(self) -> str:
        return self.camel + "Config"


def _replacements(names: PluginNames, description: str) -> dict[str, str]:
    from voxcore import __version__

    kind = KINDS[names.kind]
    major, minor = (int(part) for part in __version__.split(".")[:2]
                    if part.isdigit()) if __version__[0].isdigit() else (0, 0)
    upper = f"{major + 1}" if major else f"{major}.{minor + 1}"
    # The API of a minor release is the same in its patches, except for the names added in
    # a patch (the dataset builders' components, 0.3.1), which a plugin using them needs.
    lower = (".".join(map(str, kind.since)) if kind.since > (major, minor, 0)
             else f"{major}.{minor}")
    extra = "".join(f'    "{dependency}",\n' for dependency in kind.dependencies)
    recipe_row = f"| `{kind.example}` | {kind.example_text} |\n"
    return {
        "__DIST__": names.distribution,
        "__MODULE__": names.module,
        "__CLASS__": names.component_class,
        "__CONFIG__": names.config_class,
        "__METRIC_KEY__": names.name.replace("-", "_"),
        "__DESCRIPTION__": description or kind.description,
        "__KIND_PLURAL__": kind.plural or f"{kind.text}s",
        "__KIND_TEXT__": kind.text,
        "__KIND_ARTICLE__": kind.article,
        "__KIND__": names.kind,
        "__IMPL_MODULE__": kind.module,
        "__USAGE__": kind.usage,
        "__RECIPE_ROW__": recipe_row,
        "__EXTRA_DEPENDENCIES__": extra,
        "__VOXCORE_RANGE__": f">={lower},<{upper}",
        # last: the names inside the other replacements
        "__NAME__": names.name,
    }


def _fill(text: str, replacements: dict[str, str]) -> str:
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text


def render_plugin(kind: str, name: str, out: Path, *, description: str = "") -> list[Path]:
    """Write the plugin distribution for component ``name`` of ``kind`` into ``out``; the
    files written. Refuses an unknown kind, a name that is not lowercase words joined by
    ``-``, and an ``out`` folder that exists and is not empty."""
    if kind not in KINDS:
        raise UserError(f"unknown plugin kind {kind!r}; kinds are {', '.join(KINDS)}")
    if not _NAME.match(name):
        raise UserError(f"plugin name {name!r} must be lowercase letters and digits, words "
                        "joined by '-' (e.g. 'acme-energy')")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} exists and is not an empty folder; choose another --out")
    names = PluginNames(kind, name)
    replacements = _replacements(names, description)
    template = _TEMPLATES / KINDS[kind].folder
    module = out / "src" / names.module
    files = {
        out / "pyproject.toml": _TEMPLATES / "pyproject.toml.tmpl",
        out / "README.md": _TEMPLATES / "README.md.tmpl",
        module / "__init__.py": template / "__init__.py.tmpl",
        module / f"{KINDS[kind].module}.py": template / "impl.py.tmpl",
        out / "tests" / f"test_{names.module}.py": template / "test.py.tmpl",
        out / KINDS[kind].example: template / f"{KINDS[kind].example}.tmpl",
    }
    written = []
    for target, source in files.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_fill(source.read_text(encoding="utf-8"), replacements),
                          encoding="utf-8")
        written.append(target)
    (module / "py.typed").write_text("")
    written.append(module / "py.typed")
    return written
