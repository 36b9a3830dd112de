"""The one reviewed table from instrument names to General MIDI drum notes.

Kit files name their instruments freely ("Kick (Tama Superstar 22\")",
"Sabian Hat Semi-Open", "c3 - bass drum 1", "tomhi2"); the MIDI notes some of
them carry are unreliable (The Black Pearl gives note 60 to every instrument),
so every reader maps instruments by name through `classify_name`, and
`assign_notes` turns a kit's classified instruments into GM notes:

- kicks: the first is 36, the second 35, more are alternates of 36;
- snare 38, rimshot 40, side stick / rim click / stick 37, hand clap 39;
- hi-hats: closed 42, pedal 44, open 46; a semi-open hat is the open hat (46)
  when the kit has no open hat, otherwise an alternate of it;
- toms are ordered low to high (floor < low < mid < high, a larger size in
  inches is lower, rack tom 1 is higher than tom 2) and the six GM tom notes
  41 43 45 47 48 50 are split over them in that order (3 toms: 41/43, 45/47, 48/50);
- crash 49 then 57, ride 51 then 59, ride bell 53, china 52, splash 55;
- hand percussion (cowbell, tambourine, congas, bongos, claves, ...) by GM name.

What no rule matches stays unmapped (reported, never played by a GM note).
Rolls, swishes and choked cymbals are not single hits and stay unmapped on purpose.
A kit whose mapped instruments include no kick, snare, hi-hat or cymbal but
hand percussion (djembes, cajon, bongos) is a percussion kit, not a drum kit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adtos.vocab import CLASSES, GM_TO_CLASS

TOM_NOTES: tuple[int, ...] = (41, 43, 45, 47, 48, 50)
# Notes a missing 5-class note falls back to, most typical first (as the soundfont kit check).
PREFERRED_NOTES: dict[str, tuple[int, ...]] = {
    "BD": (36, 35), "SD": (38, 40, 37), "TT": (45, 47, 43, 48, 41, 50), "HH": (42, 44, 46),
    "CY": (49, 57, 51, 52, 55, 59, 53),
}

# Categories of classify_name: a GM note list (first free one wins, later ones are
# alternates of the first), or "tom" (ordered separately).
_SKIP = re.compile(r"\b(roll|swish|choke[d]?|flam|fx|zap|noise|reverse|sample)\b")
_PERCUSSION_WORDS = re.compile(
    r"djemb|sangban|dun+un|kenkeni|cajon|conga|bongo|tabla|maraca|shaker|waterglass|"
    r"finger|snap|guiro|cabasa|timbale|agogo|clave|woodblock|wood block|triangle|"
    r"tambourine|cowbell|whistle|vibraslap|udu|darbuka|doumbek|cuica")
_RULES: tuple[tuple[re.Pattern[str], tuple[int, ...] | str], ...] = tuple(
    (re.compile(pattern), target) for pattern, target in (
        # hand percussion first: "cowbell" is not a ride bell, "bass" of a djembe not a kick
        (r"cowbell|\bcow bell", (56,)),
        (r"tambourine|\btamb\b", (54,)),
        (r"\bclaps?\b|handclap|hand clap", (39,)),
        (r"vibraslap", (58,)),
        (r"claves?\b", (75,)),
        (r"maraca|shaker", (70,)),
        (r"cabasa", (69,)),
        (r"agogo.*\b(lo|low)\b", (68,)), (r"agogo", (67,)),
        (r"woodblock.*\b(lo|low)\b|wood block.*\b(lo|low)\b", (77,)), (r"wood ?block", (76,)),
        (r"bongo.*\b(lo|low)\b", (61,)), (r"bongo", (60,)),
        (r"conga.*\b(lo|low)\b", (64,)), (r"conga", (63,)),
        (r"timbale.*\b(lo|low)\b", (66,)), (r"timbale", (65,)),
        (r"triangle.*\bmute", (80,)), (r"triangle", (81,)),
        (r"guiro", (73,)),
        (r"whistle", (71,)),
        (r"djemb|sangban|dun+un|kenkeni|cajon|tabla|waterglass|finger|snap", ()),
        # drums
        (r"rim ?shot", (40,)),
        (r"side ?stick|cross ?stick|rim ?click|\bstick\b|\brim\b", (37,)),
        (r"kick|bass ?drum|bassdrum|\bbd\b|\bkd\b", (36, 35)),
        (r"snare|\bsd\b|\bsn\b", (38,)),
        (r"\btoms?\b|\btom[a-z]*\d*\b|floor", "tom"),
        (r"bell|\bcup\b", (53,)),
        (r"china", (52,)),
        (r"splash", (55,)),
        (r"crash ?/ ?ride.*\bbow\b|\bride\b", (51, 59)),
        (r"crash|cymbal", (49, 57)),
    ))
_HAT = re.compile(r"\b(hi[- ]?hats?|hihats?|hh|ohh|hats?)\b")


@dataclass(frozen=True)
class NameClass:
    """What a name says: GM notes (first choice, then alternatives), a tom, or nothing."""

    notes: tuple[int, ...] = ()
    tom: bool = False
    semi_open_hat: bool = False
    percussion: bool = False  # a hand-percussion name (djembe, conga, ...)

    @property
    def mapped(self) -> bool:
        return bool(self.notes) or self.tom


def normalize_name(name: str) -> str:
    """Lower case, parenthesized details and note-name prefixes ("c#3 - ") removed."""
    text = name.lower().replace("_", " ")
    text = re.sub(r"\(.*?\)", " ", text)
    text = re.sub(r"^\s*[a-g]#?b?-?\d\s*-\s*", " ", text)
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)  # "tomhi2" -> "tomhi 2"
    return re.sub(r"\s+", " ", text).strip()


def classify_name(name: str) -> NameClass:
    """The GM notes an instrument name stands for (see the module doc for the table)."""
    text = normalize_name(name)
    percussion = bool(_PERCUSSION_WORDS.search(text))
    if not text or _SKIP.search(text):
        return NameClass(percussion=percussion)
    if _HAT.search(text) and not re.search(r"cymbal|crash|ride", text):
        return _classify_hat(text)
    for pattern, target in _RULES:
        if pattern.search(text):
            if target == "tom":
                return NameClass(tom=True)
            return NameClass(notes=tuple(target), percussion=percussion)
    return NameClass(percussion=percussion)


def _classify_hat(text: str) -> NameClass:
    words = set(re.sub(r"[^a-z ]", " ", _HAT.sub(" ", text)).split())
    if words & {"pedal", "pd", "foot", "pdl", "ped"}:
        return NameClass(notes=(44,))
    if "semi" in words or "semiopen" in words or "half" in words:
        return NameClass(notes=(46,), semi_open_hat=True)
    if words & {"open", "opened", "op", "ohh", "o"} or text.split()[0] == "ohh":
        return NameClass(notes=(46,))
    if words & {"closed", "close", "cl", "tight", "chh"}:
        return NameClass(notes=(42,))
    if not words - {"hi", "hat"}:  # a bare "Hi-Hat"
        return NameClass(notes=(42,))
    return NameClass()  # "Hat Low", "Side HH", "Hat Ring": not a GM hat we can name


def tom_rank(name: str, order: int) -> tuple[float, float, float, int]:
    """Sort key, low to high: floor < low < mid < (no word) < high; larger inches lower;
    rack tom 1 above tom 2."""
    raw = name.lower()
    size = re.search(r"(\d{1,2}(?:\.\d)?)\s*(?:\"|''|inch|in\b)", raw)
    text = normalize_name(name)
    words = set(text.split())
    if "floor" in text:
        word = 0.0
    elif words & {"low", "lo", "lotom"} or "tomlo" in text or "tomlow" in text:
        word = 1.0
    elif words & {"mid", "middle", "med"} or "tommid" in text:
        word = 2.0
    elif words & {"high", "hi"} or "tomhi" in text or "tomhigh" in text:
        word = 3.0
    else:
        word = 2.5
    number = re.search(r"\b(\d+)\b", text.replace(size.group(1) if size else "\0", " "))
    return (word, -float(size.group(1)) if size else 0.0,
            -float(number.group(1)) if number else 0.0, order)


def assign_notes(names: list[str], explicit: list[int | None] | None = None,
                 fallback: list[int | None] | None = None
                 ) -> tuple[list[int | None], dict[int, int]]:
    """GM note per instrument name (None: unmapped) and the kit's note map.

    `explicit` notes (a kit.toml's `note`) win over the name; `fallback` notes
    (an SFZ region's key) are used when the name maps to nothing and the note is
    a GM drum note (35..81).

    The note map sends every GM note the kit can play to an instrument index:
    each mapped note to its first instrument (alternates are reachable by name,
    see `Kit.instruments`), all six tom notes over the toms, and every 5-class
    note the kit lacks to a same-class note it has (`PREFERRED_NOTES` order).
    """
    classes = [classify_name(n) for n in names]
    for i, note in enumerate(explicit or ()):
        if note is not None:
            classes[i] = NameClass(notes=(int(note),))
    for i, note in enumerate(fallback or ()):
        if note is not None and not classes[i].mapped and 35 <= note <= 81:
            classes[i] = NameClass(notes=(int(note),))
    notes: list[int | None] = [None] * len(names)
    note_map: dict[int, int] = {}
    has_open = any(c.notes == (46,) and not c.semi_open_hat for c in classes)
    for i, cls in enumerate(classes):
        if not cls.notes:
            continue
        choices = cls.notes
        if cls.semi_open_hat and has_open:
            notes[i] = 46  # an alternate of the open hat
            continue
        free = [n for n in choices if n not in note_map]
        note = free[0] if free else choices[0]
        notes[i] = note
        note_map.setdefault(note, i)
    toms = sorted((i for i, c in enumerate(classes) if c.tom), key=lambda i: tom_rank(names[i], i))
    for k, note in enumerate(TOM_NOTES):
        if toms:
            index = toms[k * len(toms) // len(TOM_NOTES)]
            note_map[note] = index
            if notes[index] is None:
                notes[index] = note
    for i in toms:  # toms beyond six: alternates of the tom note nearest in order
        if notes[i] is None:
            notes[i] = TOM_NOTES[min(toms.index(i) * len(TOM_NOTES) // len(toms), 5)]
    fill_vocabulary(note_map)
    return notes, note_map


def fill_vocabulary(note_map: dict[int, int]) -> None:
    """Every 5-class note the kit lacks plays a same-class note it has."""
    for label in CLASSES:
        present = [n for n in PREFERRED_NOTES[label] if n in note_map]
        if not present:
            continue
        for note in PREFERRED_NOTES[label]:
            note_map.setdefault(note, note_map[present[0]])


def missing_classes(note_map: dict[int, int]) -> list[str]:
    """The 5-class labels no note of the kit plays."""
    have = {GM_TO_CLASS[n] for n in note_map if n in GM_TO_CLASS}
    return [c for c in CLASSES if c not in have]


def is_percussion_kit(names: list[str], notes: list[int | None]) -> bool:
    """No kick, snare, hi-hat or cymbal among the mapped names, and hand percussion present."""
    labels = {GM_TO_CLASS.get(n) for n in notes if n is not None}
    if labels & {"BD", "SD", "HH", "CY"}:
        return False
    return any(classify_name(n).percussion or (note is not None and note not in GM_TO_CLASS)
               for n, note in zip(names, notes))
