"""Tone model training, its evaluation on labelled data and its benchmark."""
