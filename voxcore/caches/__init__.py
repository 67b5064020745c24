"""Disk caches of what frozen parts compute from files, addressed by content: speech-encoder
features (:mod:`voxcore.caches.features`), image latents (:mod:`voxcore.caches.latents`) and
cascade transcripts (:mod:`voxcore.caches.transcripts`), all on
:mod:`voxcore.caches.content`."""
