"""One dataset API for synthetic and real sets.

    from adtos.datasets import load_dataset
    ds = load_dataset("mdb", "path/to/mdb_drums")

Readers register themselves in READERS (kind -> function(path, **options) -> Dataset).
A spec string `[NAME=][KIND:]PATH[:LIST.txt]` names a dataset on the command line and
in config files (`DatasetSpec.parse(text).load()`); `:LIST.txt` restricts it to the
track ids listed in a file.
"""

from adtos.datasets.track import Dataset, Track
from adtos.datasets.registry import READERS, DatasetSpec, load_dataset, parse_dataset_spec

__all__ = ["Dataset", "DatasetSpec", "Track", "READERS", "load_dataset", "parse_dataset_spec"]
