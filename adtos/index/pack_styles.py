"""The material of the built-in loop pack: drum patterns, chord progressions, comping and bass rhythms.

Drum patterns are step strings, one per drum, one character per grid step:
`X` accent, `x` normal, `g` ghost, `.` rest. Pitched rhythms are lists of
(onset qn, duration qn) or (onset, duration, chord-tone) within one bar.
"""

from __future__ import annotations

from dataclasses import dataclass

# GM drum notes used by the patterns.
KICK, SIDE_STICK, SNARE, CLOSED_HH, PEDAL_HH, OPEN_HH = 36, 37, 38, 42, 44, 46
LOW_TOM, MID_TOM, HIGH_TOM, CRASH, RIDE = 43, 47, 50, 49, 51

CHORD_INTERVALS = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10), "m7b5": (0, 3, 6, 10),
}


@dataclass(frozen=True)
class Style:
    genre: str
    meter: tuple[int, int]
    tempi: tuple[int, ...]  # quarter notes per minute
    steps: int  # drum grid steps per bar (16ths, or triplet 8ths for swing)
    grooves: tuple[dict[int, str], ...]
    fill: dict[int, str]
    progressions: dict[str, tuple[tuple[int, str], ...]]  # mode → (root semitones above tonic, quality) per bar
    keys: tuple[str, ...]  # `C:maj`, ...
    piano: tuple[tuple[float, float], ...]  # comping rhythm of one bar
    bass: tuple[tuple[float, float, str], ...]  # (onset, duration, tone): root, fifth, octave, third, walk
    arpeggio: bool = False  # piano plays the chord one note at a time

    @property
    def bar_qn(self) -> float:
        return self.meter[0] * 4.0 / self.meter[1]


ROCK = Style(
    genre="rock", meter=(4, 4), tempi=(96, 112, 128), steps=16,
    grooves=(
        {CLOSED_HH: "X.x.X.x.X.x.X.x.", SNARE: "....X.......X...", KICK: "x.......x.x....."},
        {CLOSED_HH: "X.x.X.x.X.x.X.x.", SNARE: "....X.......X..g", KICK: "x......xx.x....."},
        {RIDE: "x.x.x.x.x.x.x.x.", SNARE: "....X.......X...", KICK: "x.....x.x.....x."},
    ),
    fill={CLOSED_HH: "x.x.x.x.........", SNARE: "....X...xxxx....", HIGH_TOM: "............xx..",
          LOW_TOM: "..............xx", KICK: "x.......x......."},
    progressions={"maj": ((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")),
                  "min": ((0, "min"), (8, "maj"), (3, "maj"), (10, "maj"))},
    keys=("E:maj", "A:maj", "E:min", "A:min"),
    piano=tuple((i * 0.5, 0.45) for i in range(8)),
    bass=tuple((i * 0.5, 0.45, "root") for i in range(8)),
)

FUNK = Style(
    genre="funk", meter=(4, 4), tempi=(92, 100, 108), steps=16,
    grooves=(
        {CLOSED_HH: "XxXxXxXxXxXxXxXx", SNARE: "....X..g.g..X..g", KICK: "x.x....x..x....."},
        {CLOSED_HH: "X.x.X.x.X.x.X...", SNARE: ".g..X..g.g.gX...",
         KICK: "x..x..x...x..x..", OPEN_HH: "..............x."},
        {CLOSED_HH: "XxXxXxXxXxXxXxXx", SNARE: "....X.g..g..X.g.", KICK: "x.....xx..x...x."},
    ),
    fill={CLOSED_HH: "XxXxXxXx........", SNARE: "....X..gxgxxXxxx", KICK: "x.x.....x...x..."},
    progressions={"maj": ((0, "7"), (0, "7"), (5, "7"), (5, "7")),
                  "min": ((0, "m7"), (0, "m7"), (5, "7"), (5, "7"))},
    keys=("D:maj", "G:maj", "E:min", "D:min"),
    piano=((0.0, 0.2), (0.75, 0.2), (1.5, 0.2), (2.5, 0.2), (3.0, 0.2), (3.75, 0.2)),
    bass=((0.0, 0.25, "root"), (0.75, 0.2, "root"), (1.5, 0.2, "octave"), (2.0, 0.25, "root"),
          (2.75, 0.2, "fifth"), (3.5, 0.25, "root")),
)

JAZZ = Style(
    genre="jazz", meter=(4, 4), tempi=(120, 140, 160), steps=12,
    grooves=(
        {RIDE: "x..x.xx..x.x", PEDAL_HH: "...x.....x..", KICK: "g..g..g..g.."},
        {RIDE: "x..x.xx..x.x", PEDAL_HH: "...x.....x..", SNARE: ".....g....g.", KICK: "g.....g....."},
        {RIDE: "x..x.xx..x.x", PEDAL_HH: "...x.....x..", SNARE: "..g.....g..x", KICK: "g........x.."},
    ),
    fill={RIDE: "x..x.x......", SNARE: "......x.xx.x", HIGH_TOM: "..........x.", KICK: "g..g..x....."},
    progressions={"maj": ((2, "m7"), (7, "7"), (0, "maj7"), (9, "7")),
                  "min": ((2, "m7b5"), (7, "7"), (0, "m7"), (0, "m7"))},
    keys=("F:maj", "C:maj", "C:min", "G:min"),
    piano=((0.0, 1.0), (1.0 + 2 / 3, 0.5), (3.0 + 2 / 3, 0.3)),  # Charleston, swung
    bass=((0.0, 0.9, "root"), (1.0, 0.9, "third"), (2.0, 0.9, "fifth"), (3.0, 0.9, "walk")),
)

LATIN = Style(
    genre="latin", meter=(4, 4), tempi=(120, 132, 144), steps=16,
    grooves=(
        {CLOSED_HH: "xxxxxxxxxxxxxxxx", SIDE_STICK: "x..x..x...x..x..", KICK: "x..xx..xx..xx..x"},
        {RIDE: "x.x.x.x.x.x.x.x.", SIDE_STICK: "x..x...x..x..x..", KICK: "x..xx..xx..xx..x"},
        {CLOSED_HH: "x.x.x.x.x.x.x.x.", SIDE_STICK: "..x..x....x..x..", KICK: "x..xx..xx..xx..x"},
    ),
    fill={CLOSED_HH: "xxxxxxxx........", SIDE_STICK: "x..x............", SNARE: "........x.xxx.x.",
          LOW_TOM: ".............x.x", KICK: "x..xx..x........"},
    progressions={"maj": ((0, "maj7"), (2, "7"), (2, "m7"), (7, "7")),
                  "min": ((0, "m7"), (5, "m7"), (7, "7"), (0, "m7"))},
    keys=("G:maj", "F:maj", "A:min", "D:min"),
    piano=((0.0, 0.75), (1.5, 0.5), (2.5, 0.5), (3.0, 0.75)),
    bass=((0.0, 1.4, "root"), (1.5, 0.45, "fifth"), (2.0, 1.4, "fifth"), (3.5, 0.45, "root")),
)

WALTZ = Style(
    genre="waltz", meter=(3, 4), tempi=(90, 108, 132), steps=12,
    grooves=(
        {CLOSED_HH: "x.x.x.x.x.x.", SNARE: "....x...x...", KICK: "x..........."},
        {RIDE: "x...x...x...", SNARE: "....x...x...", KICK: "x.......x..."},
        {CLOSED_HH: "X...x...x...", SNARE: "....g...x...", KICK: "x.....x....."},
    ),
    fill={CLOSED_HH: "x.x.........", SNARE: "....xxxx....", HIGH_TOM: "........xx..", LOW_TOM: "..........xx",
          KICK: "x..........."},
    progressions={"maj": ((0, "maj"), (5, "maj"), (7, "7"), (0, "maj")),
                  "min": ((0, "min"), (5, "min"), (7, "7"), (0, "min"))},
    keys=("C:maj", "D:maj", "D:min", "B:min"),
    piano=((1.0, 0.8), (2.0, 0.8)),  # chords on 2 and 3; the bass takes beat 1
    bass=((0.0, 0.95, "root"), (2.0, 0.9, "fifth")),
)

BALLAD = Style(
    genre="ballad", meter=(6, 8), tempi=(75, 90, 105), steps=12,
    grooves=(
        {CLOSED_HH: "x.x.x.x.x.x.", SNARE: "......X.....", KICK: "x..........."},
        {CLOSED_HH: "x.x.x.x.x.x.", SNARE: "......X.....", KICK: "x...x......."},
        {RIDE: "x.x.x.x.x.x.", SNARE: "......X...g.", KICK: "x.........x."},
    ),
    fill={CLOSED_HH: "x.x.x.......", SNARE: "......xxxx..", LOW_TOM: "..........xx", KICK: "x..........."},
    progressions={"maj": ((0, "maj"), (9, "min"), (5, "maj"), (7, "maj")),
                  "min": ((0, "min"), (8, "maj"), (5, "min"), (7, "7"))},
    keys=("G:maj", "A:maj", "E:min", "C:min"),
    piano=tuple((i * 0.5, 0.5) for i in range(6)),
    bass=((0.0, 1.4, "root"), (1.5, 1.4, "fifth")),
    arpeggio=True,
)

STYLES: tuple[Style, ...] = (ROCK, FUNK, JAZZ, LATIN, WALTZ, BALLAD)
