"""Loop library index: MIDI libraries → one Parquet table of bar-aligned loops.

    index = index_library("data/groove", kind="groove", loop_bars=4)
    write_loop_index(index, "loops_index/groove.parquet")
    loops = read_loop_index("loops_index/groove.parquet")
    make_loop_pack("loops/pack", seed=0)   # the built-in generated library
"""

from .keys import estimate_key, normalize_key, parse_key
from .library import KINDS, LibraryError, StrictModeError, detect_kind, index_library
from .pack import make_loop_pack
from .schema import LOOP_SCHEMA, LoopIndex, errors_path, read_loop_index, write_loop_index

__all__ = [
    "KINDS", "LOOP_SCHEMA", "LibraryError", "LoopIndex", "StrictModeError", "detect_kind",
    "errors_path", "estimate_key", "index_library", "make_loop_pack", "normalize_key", "parse_key",
    "read_loop_index", "write_loop_index",
]
