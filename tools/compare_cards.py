"""The mix figures of several dataset cards side by side, as one Markdown table.

    .venv/bin/python tools/compare_cards.py docs/cards/adtos.md docs/cards/ablation_mix_*.md

Reads the cards `adtos build` writes (README.md of a dataset folder, or a copy
of it) and prints, per card: tracks, how many tracks have a lead and a bridge
voice, the drawn drums-minus-accompaniment balance, the loudness the master
bus reached, the share of onsets under the mix per class and the pedal
hi-hat's share. The numbers are the cards' own, so the table says exactly
what the committed cards say (docs/cards/README.md is made with it).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

CLASSES = ("BD", "SD", "TT", "HH", "CY")


def read_card(text: str, source: str = "card") -> dict:
    """The mix figures of one card's Markdown; ValueError naming what is missing."""
    def find(pattern: str, what: str) -> re.Match:
        match = re.search(pattern, text, re.MULTILINE)
        if match is None:
            raise ValueError(f"{source}: no {what} (expected a line matching {pattern!r})")
        return match

    figures = {"name": find(r"^# (\S+)", "title").group(1),
               "tracks": int(find(r"^\| all \| (\d+) \|", "'all' row of the contents").group(1))}
    voices = find(r"^- voices: (.*)$", "voices line").group(1)
    # "drums, piano, bass, guitar, lead, bridge (27); drums, piano, bass, guitar, lead (4)"
    counts = [(set(group.split(", ")), int(n)) for group, n in re.findall(r"([a-z, ]+) \((\d+)\)", voices)]
    figures["lead"] = sum(n for group, n in counts if "lead" in group)
    figures["bridge"] = sum(n for group, n in counts if "bridge" in group)
    balance = re.search(r"^- drums minus accompaniment: (\S+) to (\S+) LU \(median (\S+)\)", text,
                        re.MULTILINE)
    figures["balance"] = (f"{balance.group(3)} [{balance.group(1)}, {balance.group(2)}]"
                          if balance else "flat")
    if balance is None:
        find(r"^- mix: every stem at the same loudness", "balance line")
    master = re.search(r"^- master bus [^:]*: (\S+) to (\S+) LUFS \(median (\S+)\)", text, re.MULTILINE)
    figures["master"] = (f"{master.group(3)} [{master.group(1)}, {master.group(2)}]"
                         if master else "no bus")
    if master is None:
        find(r"^- no master bus", "master bus line")
    for name in CLASSES:
        figures[name] = find(rf"^\| {name} \| \d+ \| ([\d.]+ %|not measured) \|",
                             f"audibility row of {name}").group(1)
    figures["pedal"] = find(r"^Pedal hi-hat \(GM 44\): \d+ onsets, ([\d.]+ %)", "pedal hi-hat line").group(1)
    return figures


def table(cards: list[dict]) -> str:
    """One row per figure, one column per card."""
    rows = [("tracks", "tracks"), ("tracks with a lead voice", "lead"),
            ("tracks with a bridge voice", "bridge"),
            ("drums − accompaniment, LU: median [range]", "balance"),
            ("master bus, LUFS reached: median [range]", "master")]
    rows += [(f"{name} under the mix (smr < −5 dB)", name) for name in CLASSES]
    rows += [("pedal hi-hat, share of onsets", "pedal")]
    lines = ["| | " + " | ".join(f"`{card['name']}`" for card in cards) + " |",
             "|---" + "|---:" * len(cards) + "|"]
    for label, key in rows:
        lines.append(f"| {label} | " + " | ".join(str(card[key]) for card in cards) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cards", nargs="+", type=Path, help="dataset cards (Markdown)")
    args = parser.parse_args()
    cards = []
    for path in args.cards:
        try:
            cards.append(read_card(path.read_text(encoding="utf-8"), str(path)))
        except (OSError, ValueError) as error:
            sys.exit(f"compare_cards: {error}")
    print(table(cards))


if __name__ == "__main__":
    main()
