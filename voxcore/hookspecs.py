"""Hook specifications: how a plugin tells voxcore what it provides (plugin API v1).

A plugin is a module (named by an entry point in the group ``voxcore.plugins``) that
implements some of these hooks with :data:`voxcore.hookimpl`. Each hook is called once per
plugin, the first time any registry is used (never at ``import voxcore``), with a
``register`` callable bound to that plugin::

    from voxcore import hookimpl

    @hookimpl
    def voxcore_register_encoders(register):
        register("mel", config=MelConfig, factory="voxcore_mel.encoder:MelEncoder",
                 description="log-mel filterbank, no weights")

``register(name, *, config, factory, description="", prepare=None)`` takes:

- ``name``: the component's name in recipes (lowercase letters, digits, ``-`` and ``_``);
- ``config``: a pydantic model class with ``extra="forbid"``; a recipe's ``config:`` mapping
  is validated against it;
- ``factory``: a callable taking the validated config and returning the component, or a
  ``"module:attribute"`` string naming one, imported only when the component is built, so
  that registering stays cheap (no torch import);
- ``description``: one line for ``voxcore plugins``;
- ``prepare``: for a component that must learn something from data before it can be built
  (a recogniser, a classifier), a callable (or ``"module:attribute"``) taking the validated
  config and returning a :class:`voxcore.interfaces.Preparation`, or ``None`` when that
  config needs nothing. The factory of such a component is then called as
  ``factory(config, prepared=FOLDER_OR_NONE)``; it must not train anything itself.

A hook that raises, or registers something invalid, fails its whole plugin: none of that
plugin's components are registered, a warning names its distribution and version, and every
other plugin keeps working (``VOXCORE_STRICT_PLUGINS=1`` makes this fatal).
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT_NAME = "voxcore"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def voxcore_register_encoders(register: Any) -> None:
    """Register speech encoders (:class:`voxcore.interfaces.SpeechEncoder`).

    Called once per plugin when the encoder registry (or any registry) is first used.
    ``register`` is bound to this plugin; see the module docstring for its arguments.
    """


@hookspec
def voxcore_register_bottlenecks(register: Any) -> None:
    """Register bottlenecks (:class:`voxcore.interfaces.Bottleneck`), such as SIB.

    Called once per plugin when the registries are first used. Bottleneck config models
    must declare ``input_dim``, ``output_dim`` and ``pooled_dim`` fields (``None`` = filled
    in from the encoder and generator of the recipe).
    """


@hookspec
def voxcore_register_generators(register: Any) -> None:
    """Register image generators (:class:`voxcore.interfaces.ImageGenerator`).

    Called once per plugin when the registries are first used.
    """


@hookspec
def voxcore_register_metrics(register: Any) -> None:
    """Register metrics (:class:`voxcore.interfaces.Metric`) usable in a recipe's ``metrics``.

    Called once per plugin when the registries are first used.
    """


@hookspec
def voxcore_register_datasets(register: Any) -> None:
    """Register datasets (:class:`voxcore.interfaces.Dataset`) usable in a recipe's ``data``.

    Called once per plugin when the registries are first used.
    """


@hookspec
def voxcore_register_dataset_builders(register: Any) -> None:
    """Register dataset builders (:class:`voxcore.interfaces.DatasetBuilder`).

    Called once per plugin when the registries are first used. ``voxcore data NAME --out DIR
    [KEY=VALUE ...]`` validates the options against the builder's config model, calls the
    factory with it and then ``build(DIR)`` on the result.
    """


@hookspec
def voxcore_register_voice_corpora(register: Any) -> None:
    """Register reference-voice corpora (:class:`voxcore.stages.VoiceCorpus`): recorded
    emotional speech (CREMA-D, RAVDESS, MEAD, ...) that dataset builders imitate.

    Called once per plugin when the registries are first used. A builder names corpora in its
    config (``voices: [{name: crema-d, config: {root: ...}}]``) and builds each one.
    """


@hookspec
def voxcore_register_captioners(register: Any) -> None:
    """Register image captioners (:class:`voxcore.stages.Captioner`) for dataset builders.

    Called once per plugin when the registries are first used. The factory must fail at once
    (:class:`voxcore.hub.PretrainedNotFoundError`) when its weights are not available, so a
    build stops before any work; loading them may wait for the first ``caption`` call.
    """


@hookspec
def voxcore_register_synthesizers(register: Any) -> None:
    """Register speech synthesizers (:class:`voxcore.stages.SpeechSynthesizer`): text to
    speech in the voice and emotion of a reference utterance.

    Called once per plugin when the registries are first used. Missing weights fail the
    factory, as for captioners.
    """


@hookspec
def voxcore_register_emotion_recognizers(register: Any) -> None:
    """Register speech emotion recognizers (:class:`voxcore.stages.SpeechEmotionRecognizer`),
    which dataset builders use to check the emotion of the speech they make.

    Called once per plugin when the registries are first used. A recognizer that is trained
    on data first registers with ``prepare=`` (see the module docstring); missing weights fail
    the factory, as for captioners.
    """


@hookspec
def voxcore_add_commands(commands: Any) -> None:
    """Add subcommands to the ``voxcore`` command line.

    ``commands`` is the :mod:`argparse` sub-parser collection of ``voxcore``: call
    ``commands.add_parser(NAME, help=...)``, add its arguments and
    ``parser.set_defaults(run=FUNCTION)``, where ``FUNCTION(args) -> int`` runs the command
    (raise :class:`voxcore.errors.UserError` for a problem the user can fix). Import torch and
    other heavy modules inside ``FUNCTION``, not at module level: every ``voxcore``
    invocation builds the whole parser. Called once per loaded plugin when the CLI starts; a
    hook that raises or adds a name already taken is reported and skipped.
    """
