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

The command-line grammar (`parse_policy`, `adtos train --label-policy`), in
which every key has an effect:

    default | none | KEY=VALUE[;KEY=VALUE...]

Settings start from DEFAULT_POLICY and change only what they name (so
`below=soft` alone is the default with soft targets, and `44=HH` alone the
default teaching the pedal hi-hat); each key at most once:

- below=drop|soft|ignore: what happens to an onset under its class's minimum;
  below=keep: no minimum at all (then no minimum or figure may be given);
- figure=smr_db|level_db: the figure the minimums apply to; level_db needs its
  own minimums (the default's -5 dB is a signal-to-mask ratio);
- min_db=X: every class's minimum in dB; BD=X ... CY=X one class's (wins over
  min_db, in any order);
- NOTE=keep|drop|ignore, or NOTE=its own class (44=HH: keep): a GM note of the
  5-class vocabulary, whatever its level. A note outside the vocabulary (never
  a target) or another class than the note's own (43=HH: moving a tom to the
  hi-hats) is refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from adtos.errors import ConfigError
from adtos.vocab import CLASSES, GM_TO_CLASS, UNDER_MIX_SMR_DB

ACTIONS = ("drop", "soft", "ignore")
NOTE_ACTIONS = ("keep", "drop", "ignore")
FIGURES = ("smr_db", "level_db")
IGNORE = -1.0  # a target value: this frame and class are left out of the loss
IGNORE_FRAMES = 2  # ±20 ms at 100 fps around an ignored onset: within the 50 ms match window


def _vocabulary_note(note) -> int:
    """A GM note of the 5-class vocabulary, or ConfigError saying what it is instead."""
    try:
        number = int(note)
    except (TypeError, ValueError):
        raise ConfigError(f"label policy: {note!r} is not a GM note number") from None
    if number not in GM_TO_CLASS:
        what = ("not a MIDI note (0..127)" if not 0 <= number <= 127 else
                "not a note of the 5-class vocabulary, so never a target")
        raise ConfigError(f"label policy: note {number} is {what}; expected one of "
                          f"{', '.join(map(str, sorted(GM_TO_CLASS)))}")
    return number


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
            note = _vocabulary_note(note)
            own = GM_TO_CLASS[note]
            if action == own:  # the note's own class: kept as it is (44=HH)
                action = "keep"
            if action in CLASSES:
                raise ConfigError(f"label policy: {note}={action}: note {note} is a {own} note; "
                                  f"a note can be kept as its own class ({note}={own}), not "
                                  f"moved to another; expected {', '.join(NOTE_ACTIONS)} or {own}")
            if action not in NOTE_ACTIONS:
                raise ConfigError(f"label policy: {note}={action}: expected "
                                  f"{', '.join(NOTE_ACTIONS)} or the note's class {own}")
            notes[note] = action
        object.__setattr__(self, "notes", notes)

    def describe(self) -> str:
        """The policy in the command-line grammar, every setting spelled out (what a
        run logs and records): `parse_policy` reads it back to the same targets."""
        if self == NO_POLICY:
            return "none"
        parts = [f"below={self.below}"]
        if self.below != "keep":
            parts.append(f"figure={self.figure}")
            minimums = [self.min_db.get(c) for c in CLASSES]
            if None not in minimums and len(set(minimums)) == 1:
                parts.append(f"min_db={minimums[0]:g}")
            else:  # a class without a minimum has none: -inf
                parts += [f"{c}={self.min_db.get(c, -np.inf):g}" for c in CLASSES]
        # Notes the default acts on are spelled out even when kept, since the
        # grammar starts from the default.
        for note in sorted(set(self.notes) | set(DEFAULT_POLICY.notes)):
            parts.append(f"{note}={self.notes.get(note, 'keep')}")
        return ";".join(parts)

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
    """A policy from the command line: `none`, `default`, or `;`-separated settings
    on top of the default, e.g. "below=soft;min_db=-10;SD=-6;44=HH" (the grammar is
    in the module docstring). ConfigError names the setting that is wrong."""
    text = text.strip()
    if text in ("none", "keep"):
        return NO_POLICY
    if text == "default":
        return DEFAULT_POLICY
    given: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ConfigError(f"label policy {text!r}: {part!r} is not KEY=VALUE")
        if key not in ("below", "figure", "min_db", *CLASSES) and not key.lstrip("-").isdigit():
            raise ConfigError(f"label policy {text!r}: unknown key {key!r} (below, figure, "
                              f"min_db, a class {'/'.join(CLASSES)}, or a GM note number)")
        if key in given:
            raise ConfigError(f"label policy {text!r}: {key} is given twice")
        given[key] = value
    if not given:
        raise ConfigError("label policy: empty; give default, none, or KEY=VALUE settings")

    def decibels(key: str) -> float:
        try:
            value = float(given[key])
        except ValueError:
            value = float("nan")
        if not np.isfinite(value):
            raise ConfigError(f"label policy {text!r}: {key} needs a number in dB, "
                              f"got {given[key]!r}")
        return value

    below = given.get("below", DEFAULT_POLICY.below)
    figure = given.get("figure", DEFAULT_POLICY.figure)
    minimums = [k for k in ("min_db", *CLASSES) if k in given]
    if below == "keep":
        extra = [k for k in ("figure", *minimums) if k in given]
        if extra:
            raise ConfigError(f"label policy {text!r}: below=keep teaches every onset "
                              f"whatever its level, so {', '.join(extra)} would do nothing")
        min_db: dict[str, float] = {}
    else:
        if figure != DEFAULT_POLICY.figure and not minimums:
            raise ConfigError(f"label policy {text!r}: figure={figure} needs its own minimums "
                              "(min_db=X or CLASS=X): the default's are signal-to-mask ratios")
        min_db = dict(DEFAULT_POLICY.min_db)
        if "min_db" in given:
            min_db = {c: decibels("min_db") for c in CLASSES}
        min_db.update({c: decibels(c) for c in CLASSES if c in given})
    notes = dict(DEFAULT_POLICY.notes)
    notes.update({int(k): v for k, v in given.items() if k.lstrip("-").isdigit()})
    return LabelPolicy(below=below, figure=figure, min_db=min_db, notes=notes)


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
