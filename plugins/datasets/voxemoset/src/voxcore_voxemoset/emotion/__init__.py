"""The ``speech-emotion`` recognizer: a small classifier voxcore trains on emotional speech.

The offline stand-in for emotion2vec: log-mel frames through three masked 1-D convolutions,
pooled (mean and standard deviation over time) into one vector per utterance, then a linear
layer over the emotions. It is trained as the recognizer's preparation (``voxcore data
voxemoset`` runs it before any work) on the train split of reference-voice corpora, or on a
registered dataset's labelled speech, and measured on their test split.
"""
