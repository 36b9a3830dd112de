"""Helpers for the render tests: adtos.render.testing (shared with benchmarks/bench_faults.py,
which must not import tests/), under the name the tests import."""

from adtos.render.testing import (PROGRAMS, TIM, drum_instrument, kit, make_tracks,  # noqa: F401
                                  patch, pitched_instrument, small_library, write_track,
                                  write_tracks_table)
