"""The drum-to-accompaniment balance and the loudness of real mixes (MDB Drums).

    .venv/bin/python benchmarks/experiments/mdb_balance.py [MDB_DRUMS_FOLDER]

The centre of the drawn balance (adtos.render.mix.DEFAULT_BALANCE_DB) comes
from here. For each track with a drum-only stem and a full mix: the drum
stem's gain inside the mix, by least squares on the mono signals (the rest of
the mix is nearly uncorrelated with the drums); the drums' loudness as they
sit in the mix (that gain times the stem), the loudness of the rest (mix minus
those drums) and of the whole mix, all with pyloudnorm (ITU-R BS.1770-4). A
mix statistic of a test set used as a prior of the data generation; no model
is trained or tuned on it.

Where the mix's drums were processed (EQ, compression, reverb) the stem
explains less of the mix and the projection under-estimates the drums; the
printed correlation says how far to trust each row.

Question (issue #13): where should the drawn drums/accompaniment balance be
centred? Answer (docs/render.md, "Mix"): in MDB Drums' development tracks
the drums sit 5.2, 6.7 and 9.3 LU under the rest of the mix (median of the four
-8.0; Hendrix's stem, correlation 0.11, not trusted), so the default range is
[-12, 0] LU, centre -6 (a little above the median, since the projection
under-estimates processed drums).
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    import pyloudnorm
    import soundfile

    default = Path(os.environ.get("ADTOS_SHARED_DATA", "../shared/data")) / "mdb_drums"
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    mixes = sorted((root / "audio" / "full_mix").glob("*_MIX.wav"))
    if not mixes:
        print(f"no *_MIX.wav under {root}/audio/full_mix", file=sys.stderr)
        return 2
    print("| track | drum gain in mix | correlation | drums LUFS | rest LUFS | mix LUFS | drums - rest (LU) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    balances = []
    for mix_path in mixes:
        name = mix_path.name.removesuffix("_MIX.wav")
        drums, sr = soundfile.read(root / "audio" / "drum_only" / f"{name}_Drum.wav")
        mix, _ = soundfile.read(mix_path)
        n = min(len(mix), len(drums))
        mono = mix[:n].mean(axis=1) if mix.ndim == 2 else mix[:n]
        drums = drums[:n].mean(axis=1) if drums.ndim == 2 else drums[:n]
        gain = float(mono @ drums / (drums @ drums))
        rest = mono - gain * drums
        meter = pyloudnorm.Meter(sr)
        drum_lufs = meter.integrated_loudness(gain * drums)
        rest_lufs = meter.integrated_loudness(rest)
        mix_lufs = meter.integrated_loudness(mix[:n])
        correlation = float(np.corrcoef(mono, drums)[0, 1])
        balances.append(drum_lufs - rest_lufs)
        print(f"| {name} | {gain:.3f} | {correlation:.2f} | {drum_lufs:.1f} | {rest_lufs:.1f} | "
              f"{mix_lufs:.1f} | {drum_lufs - rest_lufs:+.1f} |")
    print(f"\nmedian drums - rest: {statistics.median(balances):+.1f} LU over {len(balances)} tracks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
