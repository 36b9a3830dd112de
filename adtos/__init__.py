"""ADTOS: synthetic training data for automatic drum transcription.

Stages (one subpackage each): index -> assemble -> presets/render -> build ->
stats / transcriber -> scaling. The CLI (`adtos <stage>`) is a thin layer over
the functions of these subpackages.
"""

__version__ = "0.1.0"
