"""Label policy: which annotated onsets a model is taught, chosen at training time.

A synthetic annotation lists every MIDI note; a real annotator marks what they
hear. The renderer measures how audible each onset is (adtos.render.audibility:
`smr_db`, the hit against the rest of the mix, and `level_db`, the hit alone
in its stem); a policy turns that into targets:

- an onset whose figure is below its class's minimum is dropped (a negative:
  the model is taught silence there), kept as a soft target (the amplitude
  ratio to the minimum, 10^((figure - minimum)/20): 6 dB below gives 0.5), or
  ignored (its frames, ±IGNORE_FRAMES, are left out of the loss and out of the
  F-measure: the model may fire there or not);
- a GM note may have its own action whatever its level (`notes`): the pedal
  hi-hat (44) is kept as HH, dropped, or ignored.

The default (DEFAULT_POLICY) is chosen from measurements on a GMD + POP909
build and the real sets' annotation practice (docs/transcriber.md, "Label
policy"; benchmarks/RESULTS.md): onsets under the music are ignored, not
taught as silence, because real annotators mark some of them (MDB's ghost
notes) and not others; the pedal hi-hat is ignored, since MDB marks it once
in 13 tracks though it is 13 % of GMD's onsets.

Tracks without the figures (real sets, older builds) keep every onset, and
a note action applies only where the track knows its GM notes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from adtos.errors import ConfigError
from adtos.vocab import CLASSES, UNDER_MIX_SMR_DB

ACTIONS = ("drop", "soft", "ignore")
NOTE_ACTIONS = ("keep", "drop", "ignore")
FIGURES = ("smr_db", "level_db")
IGNORE = -1.0  # a target value: this frame and class are left out of the loss
IGNORE_FRAMES = 2  # ±20 ms at 100 fps around an ignored onset: within the 50 ms match window


@dataclass(frozen=True)
class LabelPolicy:
    below: str = "keep"                     # drop | soft | ignore | keep (no threshold)
    figure: str = "smr_db"                  # the per-onset figure the minimum applies to
    min_db: dict[str, float] = field(default_factory=dict)  # class -> minimum figure
    notes: dict[int, str] = field(default_factory=dict)     # GM note -> keep | drop | ignore

    def __post_init__(self) -> None:
        if self.below not in (*ACTIONS, "keep"):
            raise ConfigError(f"label policy: below must be one of {', '.join(ACTIONS)} or keep, "
                              f"got {self.below!r}")
        if self.figure not in FIGURES:
            raise ConfigError(f"label policy: figure must be one of {', '.join(FIGURES)}, "
                              f"got {self.figure!r}")
        unknown = sorted(set(self.min_db) - set(CLASSES))
        if unknown:
            raise ConfigError(f"label policy: min_db has unknown classes {unknown}; "
                              f"expected some of {', '.join(CLASSES)}")
        object.__setattr__(self, "min_db", {c: float(v) for c, v in self.min_db.items()})
        notes = {}
        for note, action in self.notes.items():
            if action == "HH":  # the pedal hi-hat's natural reading: its class
                action = "keep"
            if action not in NOTE_ACTIONS:
                raise ConfigError(f"label policy: note {note} maps to {action!r}; expected "
                                  f"{', '.join(NOTE_ACTIONS)} (or HH)")
            notes[int(note)] = action
        object.__setattr__(self, "notes", notes)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["notes"] = {str(k): v for k, v in self.notes.items()}  # JSON keys are strings
        return data

    @classmethod
    def from_dict(cls, data: dict | None) -> "LabelPolicy":
        if data is None:
            return DEFAULT_POLICY
        known = {"below", "figure", "min_db", "notes"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"label policy: unknown fields {unknown}; expected "
                              f"{', '.join(sorted(known))}")
        return cls(**{k: v for k, v in data.items()})

    def targets(self, track) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(onsets, labels, values) of a track under this policy.

        `values` is the target of each onset: 1, a soft value in (0, 1), or
        IGNORE; dropped onsets are left out.
        """
        onsets = np.asarray(track.onsets, dtype=np.float64)
        labels = np.asarray(track.labels, dtype=np.int64)
        values = np.ones(onsets.size)
        figure = getattr(track, self.figure, None)
        if self.below != "keep" and figure is not None and self.min_db:
            minimum = np.array([self.min_db.get(c, -np.inf) for c in CLASSES])[labels]
            under = np.asarray(figure, dtype=np.float64) < minimum
            if self.below == "soft":
                values[under] = np.clip(10 ** ((figure[under] - minimum[under]) / 20), 0.0, 1.0)
            else:
                values[under] = IGNORE if self.below == "ignore" else np.nan
        notes = getattr(track, "notes", None)
        if notes is not None:
            for note, action in self.notes.items():
                hit = np.asarray(notes) == note
                if action == "drop":
                    values[hit] = np.nan
                elif action == "ignore":
                    values[hit] = IGNORE
        keep = ~np.isnan(values)
        return onsets[keep], labels[keep], values[keep]


NO_POLICY = LabelPolicy()  # every annotated onset is a target
# Chosen from a measured build; see the module docstring and docs/transcriber.md.
DEFAULT_POLICY = LabelPolicy(below="ignore", figure="smr_db",
                             min_db={c: UNDER_MIX_SMR_DB for c in CLASSES}, notes={44: "ignore"})


def parse_policy(text: str) -> LabelPolicy:
    """A policy from the command line: `none`, `default`, or `;`-separated settings,
    e.g. "below=ignore;figure=smr_db;min_db=-10;SD=-6;44=ignore".

    `min_db=X` sets every class, `CLASS=X` one class, `NOTE=ACTION` a GM note.
    """
    text = text.strip()
    if text in ("none", "keep"):
        return NO_POLICY
    if text == "default":
        return DEFAULT_POLICY
    fields: dict = {"min_db": {}, "notes": {}}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep:
            raise ConfigError(f"label policy {text!r}: {part!r} is not KEY=VALUE")
        try:
            if key in ("below", "figure"):
                fields[key] = value
            elif key == "min_db":
                fields["min_db"].update({c: float(value) for c in CLASSES})
            elif key in CLASSES:
                fields["min_db"][key] = float(value)
            elif key.isdigit():
                fields["notes"][int(key)] = value
            else:
                raise ConfigError(f"label policy {text!r}: unknown key {key!r} (below, figure, "
                                  f"min_db, a class {'/'.join(CLASSES)}, or a GM note number)")
        except ValueError:
            raise ConfigError(f"label policy {text!r}: {key} needs a number in dB, "
                              f"got {value!r}") from None
    return LabelPolicy(**fields)


def masked_bce(logits, targets, pos_weight: float = 1.0):
    """Mean binary cross-entropy (torch) over the frames and classes not IGNOREd.

    Without ignored targets and with pos_weight 1 it is torch's plain mean BCE;
    `pos_weight` multiplies the loss of the onset term (torch's pos_weight), so
    that the rare onset frames weigh more against the silent ones.
    """
    import torch

    care = targets >= 0
    weight = None if pos_weight == 1.0 else torch.tensor(float(pos_weight), device=logits.device)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, targets.clamp(min=0.0), reduction="none", pos_weight=weight)
    return (loss * care).sum() / care.sum().clamp(min=1)


def don_t_care(activation: np.ndarray, targets: np.ndarray, track) -> tuple[np.ndarray, np.ndarray]:
    """What onset F-measure scores on a track prepared under a policy.

    Returns the activation with the ignored frames set to 0, so that no peak
    is picked where the policy does not care (no false positive there), and
    the mask of the onsets that count as references: targets of at least 0.5
    (an ignored or faint soft onset is not a miss).
    """
    values = getattr(track, "values", None)
    if values is None:
        return activation, np.ones(np.asarray(track.onsets).size, dtype=bool)
    ignored = targets[: activation.shape[0]] < 0
    if ignored.any():
        activation = np.where(ignored, 0.0, activation).astype(activation.dtype)
    return activation, np.asarray(values) >= 0.5
