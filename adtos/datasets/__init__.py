"""One dataset API for synthetic and real sets.

    from adtos.datasets import load_dataset
    ds = load_dataset("mdb", "path/to/mdb_drums")

Readers register themselves in READERS (kind -> function(path, **options) -> Dataset).
A spec string `KIND:PATH` or `NAME=KIND:PATH` names a dataset on the command line;
`PATH:LIST.txt` restricts an ADTOS dataset to the track ids listed in a file.
"""

from adtos.datasets.track import Dataset, Track
from adtos.datasets.registry import READERS, load_dataset, parse_dataset_spec

__all__ = ["Dataset", "Track", "READERS", "load_dataset", "parse_dataset_spec"]
