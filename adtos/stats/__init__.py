"""Dataset statistics: the paper's Figure 1 and Appendix A for any datasets.

Plain functions on plain arrays (seconds, class indices), as in mir_eval:

    tempo_from_beats(beats) -> bpm
    merge_onsets(onsets, window=0.05)
    onset_intervals_in_beats(onsets, beats, merge=0.05, max_beats=1.0)
    beat_fingerprints(onsets, labels, beats, bins=12) -> uint64 per beat
    coverage(source_fingerprints, target_fingerprints) -> (beat share, unique share)

and `compare_datasets(datasets, out)` for the tables and plots of `adtos stats`.
"""

from adtos.stats.collect import DatasetStats, dataset_stats
from adtos.stats.compare import compare_datasets
from adtos.stats.fingerprints import (beat_fingerprints, coverage, describe_fingerprint,
                                      fingerprint_counts)
from adtos.stats.rhythm import (local_beat_durations, merge_onsets, onset_intervals_in_beats,
                                tempo_from_beats)

__all__ = ["DatasetStats", "dataset_stats", "compare_datasets", "beat_fingerprints", "coverage",
           "describe_fingerprint", "fingerprint_counts", "local_beat_durations", "merge_onsets",
           "onset_intervals_in_beats", "tempo_from_beats"]
