"""`adtos build` end to end: built-in loop pack → assembled → rendered → manifest.

One tiny dataset (2 train + 1 val tracks of 6 s, 2 voices, an 8-preset library
from TimGM6mb) is built once per session; the tests check that its manifest,
audio, annotations and MIDI agree, that validation is disjoint from training,
that a rebuild is identical, that a damaged build resumes, and that variants
keep every loop placement.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pretty_midi
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from adtos.cli import main as adtos

CONFIG = """
[dataset]
name = "tiny"
seed = 1

[[libraries]]
builtin = "loop-pack"

[presets]
library = "presets.jsonl"

[tracks]
train = 2
val = 1
duration = 6.0
voices = 2
section_bars = [2, 4]
"""


def tiny_presets(path: Path) -> None:
    """Two drum kits and two pianos from TimGM6mb, one of each held out for validation."""
    from adtos.presets import Preset, save_presets

    font = "TimGM6mb.sf2"
    presets = [
        Preset(role="drums", name="kit", pool="train",
               source={"soundfont": font, "bank": 128, "program": 0}),
        Preset(role="drums", name="kit, louder", pool="val", synth={"gain": 0.6},
               source={"soundfont": font, "bank": 128, "program": 0}),
        Preset(role="piano", name="grand", pool="train",
               source={"soundfont": font, "bank": 0, "program": 0}),
        Preset(role="piano", name="bright", pool="val",
               source={"soundfont": font, "bank": 0, "program": 1}),
    ]
    for role, programs in (("bass", (33, 34)), ("guitar", (24, 25))):
        presets += [Preset(role=role, pool=pool, source={"soundfont": font, "bank": 0,
                                                        "program": program})
                    for pool, program in zip(("train", "val"), programs)]
    save_presets(presets, path)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("build")
    tiny_presets(root / "presets.jsonl")
    (root / "tiny.toml").write_text(CONFIG)
    return root


@pytest.fixture(scope="module")
def built(project) -> Path:
    out = project / "out" / "ds"
    assert adtos(["build", str(project / "tiny.toml"), "--out", str(out), "--workers", "1"]) == 0
    return out


def drum_onsets(midi) -> np.ndarray:
    return np.array(sorted((n.start, n.pitch) for i in midi.instruments if i.is_drum
                           for n in i.notes)).reshape(-1, 2)


def read_annotation(path: Path) -> np.ndarray:
    rows = [line.split("\t") for line in path.read_text().splitlines() if line.strip()]
    return np.array([(float(t), int(n)) for t, n, *_ in rows]).reshape(-1, 2)


def test_dataset_folder_layout(built):
    for name in ("audio", "annotations", "midi", "tracks", "index", "manifest.parquet",
                 "config.toml", "README.md", "presets.jsonl", "render.parquet"):
        assert (built / name).exists(), name
    assert not list(built.rglob(".*.partial*"))


def test_manifest_audio_annotations_and_midi_agree(built):
    from adtos.fileio import sha256_file

    manifest = pq.read_table(built / "manifest.parquet").to_pylist()
    assert [r["split"] for r in manifest] == ["train", "train", "val"]
    assert [r["track_id"] for r in manifest] == ["train00000", "train00001", "val00000"]
    for row in manifest:
        track_id = row["track_id"]
        audio = built / row["audio"]
        info = sf.info(str(audio))
        assert info.samplerate == 44100
        assert info.frames / info.samplerate == pytest.approx(row["duration"], abs=1e-6)
        assert sha256_file(audio) == row["audio_sha256"]
        assert row["voices"] == ["drums", "piano"] and row["drum_preset"] and row["piano_preset"]
        assert row["bass_preset"] is None and row["base"] is None
        assert row["loops"] and row["tempo"] > 0 and row["meter"]

        notes = read_annotation(built / "annotations" / f"{track_id}.txt")
        track_midi = pretty_midi.PrettyMIDI(str(built / "midi" / f"{track_id}.mid"))
        drum_midi = pretty_midi.PrettyMIDI(str(built / "annotations" / f"{track_id}.mid"))
        assert len(notes) > 0
        np.testing.assert_allclose(notes, drum_onsets(track_midi), atol=1e-5)
        np.testing.assert_allclose(notes, drum_onsets(drum_midi), atol=1e-5)
        assert track_midi.get_end_time() <= row["duration"]
        assert notes[:, 0].max() < row["duration"]
        # The audio is not silent where the annotations say drums play.
        audio_data, sr = sf.read(str(audio))
        first = int(notes[0, 0] * sr)
        assert np.abs(audio_data[first:first + sr // 10]).max() > 1e-3


def test_validation_uses_no_training_loop_or_preset(built):
    manifest = pq.read_table(built / "manifest.parquet").to_pylist()
    train = [r for r in manifest if r["split"] == "train"]
    val = [r for r in manifest if r["split"] == "val"]
    train_loops = {loop for r in train for loop in r["loops"]}
    val_loops = {loop for r in val for loop in r["loops"]}
    assert val_loops and not train_loops & val_loops
    for column in ("drum_preset", "piano_preset"):
        assert not {r[column] for r in train} & {r[column] for r in val}


def test_card_and_resolved_config(built):
    from adtos.build.config import load_config

    card = (built / "README.md").read_text()
    assert "| train | 2 |" in card and "| val | 1 |" in card
    assert "`TimGM6mb.sf2`: GPL-2" in card and "loop-pack" in card
    assert "Loops heard both in training and in another split: 0." in card
    assert "Presets heard both in training and in another split: 0." in card
    assert "- mix: every stem at the same loudness (no drawn balance)" in card  # the schema's flat mix
    assert "- no master bus" in card
    config = load_config(built / "config.toml")
    assert config.tracks.train == 2 and config.dataset.seed == 1
    # The folder's own copy of the library: a dataset folder rebuilds from itself.
    assert config.resolve(config.presets.library) == built / "presets.jsonl"
    assert "/" + built.parts[1] not in (built / "config.toml").read_text()  # no absolute path


def test_a_moved_dataset_folder_rebuilds_from_itself(built, tmp_path):
    moved = tmp_path / "elsewhere" / "ds"
    shutil.copytree(built, moved)
    assert "presets.jsonl" in [p.name for p in moved.iterdir()]
    assert adtos(["build", str(moved / "config.toml"), "--out", str(moved), "--workers", "1"]) == 0
    assert outputs(moved) == outputs(built)
    assert (moved / "config.toml").read_text() == (built / "config.toml").read_text()


def outputs(folder: Path) -> dict[str, bytes]:
    files = {"manifest.parquet": (folder / "manifest.parquet").read_bytes()}
    for sub in ("midi", "annotations"):
        for path in sorted((folder / sub).iterdir()):
            files[f"{sub}/{path.name}"] = path.read_bytes()
    return files


def test_rebuild_is_identical_and_resume_completes(project, built):
    again = project / "out" / "again"
    assert adtos(["build", str(project / "tiny.toml"), "--out", str(again), "--workers", "1"]) == 0
    assert outputs(again) == outputs(built)

    # Damage the second build as a kill at different points would: a lost
    # track at every stage, a half-written file, no manifest.
    expected = outputs(again)
    (again / "manifest.parquet").unlink()
    (again / "README.md").unlink()
    (again / "audio" / "train00001.flac").unlink()
    (again / "audio" / ".val00000.x.partial.flac").write_bytes(b"half")
    shutil.rmtree(again / "tracks")
    (again / "assembled" / "val" / "tracks.parquet").unlink()
    assert adtos(["build", str(project / "tiny.toml"), "--out", str(again), "--workers", "1"]) == 0
    assert outputs(again) == expected
    assert not list(again.rglob(".*.partial*"))


def test_bad_config_fails_before_any_work(project, capsys):
    bad = project / "bad.toml"
    bad.write_text(CONFIG.replace("voices = 2", "voice = 2").replace('"presets.jsonl"',
                                                                     '"missing.jsonl"'))
    out = project / "out" / "never"
    assert adtos(["build", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "[tracks].voice: unknown key; did you mean 'voices'?" in err
    assert "[presets].library: expected an existing .jsonl file, got 'missing.jsonl'" in err
    assert not out.exists()


def test_other_config_into_the_same_folder_is_refused(project, built, capsys):
    other = project / "other.toml"
    other.write_text(CONFIG.replace("seed = 1", "seed = 2"))
    assert adtos(["build", str(other), "--out", str(built)]) == 2
    assert "started with a different config" in capsys.readouterr().err


def test_variants_share_every_loop_placement(project, built):
    config = str(project / "tiny.toml")
    base = str(built)
    assert adtos(["build", config, "--out", base, "--variant", "voices=1", "--workers", "1"]) == 0
    assert adtos(["build", config, "--out", base, "--variant", "quantize=true",
                  "--workers", "1"]) == 0
    voices1, quantized = built.with_name("ds.voices1"), built.with_name("ds.quantized")
    # A variant's folder says what it is; building into it as a dataset is refused.
    variant_config = (voices1 / "config.toml").read_text()
    assert variant_config.startswith("# A variant of ../ds (--variant voices=1)")
    assert adtos(["build", str(voices1 / "config.toml"), "--out", str(voices1)]) == 2
    # Its card is titled with its own name, and its config names its own preset copy.
    assert (voices1 / "README.md").read_text().startswith("# tiny.voices1\n")
    assert (quantized / "README.md").read_text().startswith("# tiny.quantized\n")
    assert 'library = "presets.jsonl"' in variant_config

    base_rows = pq.read_table(built / "manifest.parquet").to_pylist()
    for variant in (voices1, quantized):
        rows = pq.read_table(variant / "manifest.parquet").to_pylist()
        assert [r["base"] for r in rows] == ["ds"] * len(base_rows)
        for row, base_row in zip(rows, base_rows):
            assert row["track_id"] == base_row["track_id"]
            assert row["loops"] == base_row["loops"]
            assert row["drum_preset"] == base_row["drum_preset"]  # same kit, fewer voices
            assert row["duration"] == base_row["duration"]
    assert all(r["voices"] == ["drums"] and r["piano_preset"] is None
               for r in pq.read_table(voices1 / "manifest.parquet").to_pylist())
    assert all(r["quantized"] for r in pq.read_table(quantized / "manifest.parquet").to_pylist())

    for row in base_rows:
        name = f"{row['track_id']}.mid"
        base_midi = pretty_midi.PrettyMIDI(str(built / "midi" / name))
        one = pretty_midi.PrettyMIDI(str(voices1 / "midi" / name))
        quant = pretty_midi.PrettyMIDI(str(quantized / "midi" / name))
        # voices=1: the drums are the base's drums, note for note.
        assert [i.name for i in one.instruments] == ["drums"]
        np.testing.assert_array_equal(drum_onsets(one), drum_onsets(base_midi))
        # quantize: the other voices are untouched, the drums moved by less than
        # half a 16th note and now sit on the 16th grid.
        for a, b in zip((i for i in base_midi.instruments if not i.is_drum),
                        (i for i in quant.instruments if not i.is_drum)):
            assert [(n.start, n.pitch) for n in a.notes] == [(n.start, n.pitch) for n in b.notes]
        original, snapped = drum_onsets(base_midi), drum_onsets(quant)
        assert 0 < len(snapped) <= len(original)  # same-note hits on one grid point merge
        sixteenth = 60.0 / float(quant.get_tempo_changes()[1].min()) / 4
        for time, pitch in snapped:
            same = original[original[:, 1] == pitch, 0]
            assert np.abs(same - time).min() <= sixteenth / 2 + 1e-3
        grid_pos = np.array([quant.time_to_tick(t) for t in snapped[:, 0]]) \
            % (quant.resolution // 4)
        assert np.all(grid_pos == 0)
        np.testing.assert_allclose(read_annotation(quantized / "annotations" / f"{row['track_id']}.txt"),
                                   snapped, atol=1e-5)


def test_subset_command_lists_tracks(built, tmp_path, capsys):
    listing = tmp_path / "p1_r1.txt"
    assert adtos(["subset", str(built), "--drum-presets", "1", "--reuse", "1",
                  "--out", str(listing)]) == 0
    ids = listing.read_text().split()
    assert len(ids) == 1 and ids[0].startswith("train")
    out = capsys.readouterr().out
    assert "selected 1 presets" in out and "wrote 1 track ids" in out
    assert adtos(["subset", str(tmp_path), "--drum-presets", "1", "--out", str(listing)]) == 2


def test_unknown_soundfont_fails_before_any_work(project, capsys):
    bad = project / "nofont.toml"
    bad.write_text(CONFIG.replace('library = "presets.jsonl"',
                                  'generate = { drums = 2, soundfonts = ["NoSuchFont.sf2"] }'))
    out = project / "out" / "nofont"
    assert adtos(["build", str(bad), "--out", str(out)]) == 2
    assert "[presets.generate].soundfonts: soundfont 'NoSuchFont.sf2' not found" \
        in capsys.readouterr().err
    assert not out.exists()


def test_killed_build_completes_when_started_again(project, built):
    """SIGKILL mid-render (the first track's audio is written), then run again."""
    import signal
    import subprocess
    import sys
    import time

    out = project / "out" / "killed"
    argv = [sys.executable, "-m", "adtos", "build", str(project / "tiny.toml"), "--out", str(out),
            "--workers", "1"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if (out / "audio").is_dir() and any((out / "audio").glob("*.flac")):
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the build finished before it could be killed"
    assert not (out / "manifest.parquet").exists()
    assert adtos(["build", str(project / "tiny.toml"), "--out", str(out), "--workers", "1"]) == 0
    assert outputs(out) == outputs(built)
    assert not list(out.rglob(".*.partial*"))
