"""Reference-voice corpora: recorded emotional speech read from each corpus's released layout.

The corpora registered by this plugin (``crema-d``, ``ravdess``, ``mead``, ``voice-table``) list
their utterances as :class:`voxcore.plugin_api.ReferenceVoice` s with emotions named as in
:data:`voxcore.plugin_api.CANONICAL_EMOTIONS`, each in the train or the test split. Their
configs are in :mod:`voxcore_voxemoset.voices.config`; the readers are imported when a corpus
is built. Nothing here decodes audio while listing, so a corpus of 30k files lists in moments.
"""
