"""tools/compare_cards.py reads the mix figures of dataset cards; docs/cards/README.md
shows what the committed cards say."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CARD = """# adtos-nobridge

## Contents

| split | tracks | hours | mean duration (s) |
|---|---:|---:|---:|
| train | 2 | 0.034 | 62.0 |
| all | 3 | 0.052 | 62.0 |

## Music

- voices: drums, piano, bass, guitar, lead (2); drums, piano, bass, guitar (1)
- drums minus accompaniment: -11.6 to -1.0 LU (median -6.2), drawn per track
- no master bus: the mix is the sum of the stems, scaled down only if it would clip

## Audibility

| class | onsets | under the mix |
|---|---:|---:|
| BD | 10 | 41.8 % |
| SD | 10 | 36.3 % |
| TT | 0 | not measured |
| HH | 10 | 37.2 % |
| CY | 10 | 33.6 % |

Pedal hi-hat (GM 44): 5 onsets, 12.5 % of the annotated onsets.
"""


@pytest.fixture(scope="module")
def cards():
    spec = importlib.util.spec_from_file_location("compare_cards",
                                                  REPO / "tools" / "compare_cards.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_read_card_takes_the_mix_figures(cards):
    figures = cards.read_card(CARD)
    assert figures["name"] == "adtos-nobridge" and figures["tracks"] == 3
    assert (figures["lead"], figures["bridge"]) == (2, 0)
    assert figures["balance"] == "-6.2 [-11.6, -1.0]"
    assert figures["master"] == "no bus"
    assert figures["BD"] == "41.8 %" and figures["TT"] == "not measured"
    assert figures["pedal"] == "12.5 %"


def test_read_card_names_the_missing_figure(cards):
    broken = CARD.replace("- no master bus", "- a master bus of some kind")
    with pytest.raises(ValueError, match="card.md: no master bus line"):
        cards.read_card(broken, "card.md")


def test_cards_readme_table_is_the_committed_cards():
    """docs/cards/README.md holds the table compare_cards makes of the committed cards."""
    folder = REPO / "docs" / "cards"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    spec = importlib.util.spec_from_file_location("compare_cards_docs",
                                                  REPO / "tools" / "compare_cards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = ["adtos", "ablation_mix_flat", "ablation_mix_lead", "ablation_mix_bridge",
             "ablation_mix_balance", "ablation_mix_master"]
    table = module.table([module.read_card((folder / f"{n}.md").read_text(encoding="utf-8"), n)
                          for n in names])
    assert table in readme
