"""The drum transcriber: features, CRNN, training, peak picking, metrics, transcription.

    from adtos.transcriber import TrainConfig, train
    result = train(TrainConfig(train="out/ds", val="out/ds", tests={"mdb": "mdb:PATH"},
                               out="runs/x"))

Modules, in the order data flows through them: features (madmom spectrogram,
cache), targets (frame targets), data (snippet batches), model (CRNN),
schedule (learning rate), train (the loop), predict (whole tracks, and the
DrumTranscriber processor), peaks, metrics, evaluate, transcribe. torch is imported inside functions, so importing this package is cheap.
"""

from adtos.transcriber.config import TrainConfig, TrainResult
from adtos.transcriber.evaluate import evaluate
from adtos.transcriber.predict import DrumTranscriber
from adtos.transcriber.train import resume_training, train
from adtos.transcriber.transcribe import transcribe

__all__ = ["TrainConfig", "TrainResult", "train", "resume_training", "evaluate", "transcribe",
           "DrumTranscriber"]
