"""Dataset readers on small fixture files written in each dataset's format."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from adtos.datasets import load_dataset, parse_dataset_spec
from adtos.midi import read_midi_file
from adtos.datasets.testing import rock_beat, write_adtos_track, write_manifest
from adtos.vocab import CLASS_INDEX

BD, SD, TT, HH, CY = (CLASS_INDEX[c] for c in ("BD", "SD", "TT", "HH", "CY"))


# ---------------------------------------------------------------- ADTOS


@pytest.fixture()
def adtos_dir(tmp_path):
    root = tmp_path / "ds"
    write_adtos_track(root, "train00000", rock_beat(4, velocity=100), tempi=[(0, 120.0)])
    write_adtos_track(root, "train00001", rock_beat(4, velocity=90) + [(1.0, 39, 64)],
                      tempi=[(0, 100.0), (8, 150.0)])
    write_adtos_track(root, "val00000", rock_beat(4, swing=2 / 3), time_signature=(3, 4))
    write_manifest(root, [
        {"track_id": "train00000", "split": "train", "tempo": 120.0, "meter": "4/4", "genre": "rock"},
        {"track_id": "train00001", "split": "train", "tempo": 100.0, "meter": "4/4", "genre": "pop"},
        {"track_id": "val00000", "split": "val", "tempo": 120.0, "meter": "3/4", "genre": "jazz"},
    ])
    return root


def test_adtos_reader_reads_onsets_velocities_beats_and_splits(adtos_dir):
    ds = load_dataset("adtos", adtos_dir)
    assert [t.track_id for t in ds] == ["train00000", "train00001", "val00000"]
    track = ds[0]
    assert track.audio_path is None  # no audio rendered: annotations are enough
    assert track.onsets.size == 48 and track.tempo == pytest.approx(120.0)
    assert track.meter == "4/4" and track.split == "train"
    np.testing.assert_allclose(track.beats[:5], [0, 0.5, 1, 1.5, 2])
    np.testing.assert_allclose(track.downbeats[:3], [0, 2, 4])
    # velocities follow the onsets (kick/snare 100, off-beat hi-hats 80)
    assert set(track.velocities[track.labels == BD].tolist()) == {100}
    assert set(track.velocities[track.labels == HH].tolist()) == {100, 80}
    assert len(ds.split("val")) == 1 and ds.split("val")[0].meter == "3/4"


def test_adtos_tempo_change_moves_the_beats(adtos_dir):
    track = load_dataset("adtos", adtos_dir)[1]
    # 8 quarter notes at 100 bpm (4.8 s), then 150 bpm (0.4 s a beat)
    np.testing.assert_allclose(track.beats[7:10], [4.2, 4.8, 5.2], atol=1e-5)
    assert track.original_labels.count("39") == 1  # hand clap: not a target, kept as original
    assert track.metadata["dropped_labels"] == {"39": 1}
    assert track.onsets.size == 48


def test_adtos_subset_spec_and_list_file(adtos_dir, tmp_path):
    listing = tmp_path / "val.txt"
    listing.write_text("val00000\n")
    name, kind, path = parse_dataset_spec(f"ours=adtos:{adtos_dir}:{listing}")
    assert (name, kind) == ("ours", "adtos")
    ds = load_dataset(kind, path, name=name)
    assert ds.name == "ours" and [t.track_id for t in ds] == ["val00000"]
    listing.write_text("nope\n")
    with pytest.raises(ValueError, match="not in the dataset"):
        load_dataset("adtos", adtos_dir, subset=listing)


def test_adtos_without_table_uses_annotation_files(adtos_dir):
    (adtos_dir / "manifest.parquet").unlink()
    ds = load_dataset("adtos", adtos_dir)
    assert len(ds) == 3 and ds[0].split is None


def test_adtos_bad_annotation_is_skipped_and_reported(adtos_dir):
    (adtos_dir / "annotations" / "train00001.txt").write_text("0.5\tkick\n")
    with pytest.warns(UserWarning, match="skipped 1"):
        ds = load_dataset("adtos", adtos_dir)
    assert len(ds) == 2 and ds.metadata["skipped"][0][0] == "train00001"


def test_fast_midi_reader_matches_pretty_midi(adtos_dir):
    import pretty_midi

    path = adtos_dir / "midi" / "train00001.mid"
    events = read_midi_file(path)
    pm = pretty_midi.PrettyMIDI(str(path))
    starts = sorted(n.start for n in pm.instruments[0].notes)
    np.testing.assert_allclose(np.sort(events.seconds(events.notes.start_tick)), starts, atol=1e-9)
    beats, downbeats = events.beat_ticks()
    reference = pm.get_beats()
    np.testing.assert_allclose(events.seconds(beats)[:reference.size], reference, atol=1e-9)
    np.testing.assert_allclose(events.seconds(downbeats)[:len(pm.get_downbeats())],
                               pm.get_downbeats(), atol=1e-9)


# ---------------------------------------------------------------- ENST


def test_enst_reader_maps_labels_and_reports_unknown(tmp_path):
    root = tmp_path / "ENST-drums-public"
    annotation = root / "drummer_1" / "annotation"
    annotation.mkdir(parents=True)
    (root / "drummer_1" / "audio" / "wet_mix").mkdir(parents=True)
    (annotation / "045_phrase_rock_simple_medium_sticks.txt").write_text(
        "0.011 bd\n0.011 chh\n0.250 sd-\n0.500 rc3\n0.510 cr1\n0.750 lmt\n0.800 ohh\n"
        "1.000 cb\n1.100 zz\n1.200 spl2\n")
    (root / "drummer_1" / "audio" / "wet_mix" / "045_phrase_rock_simple_medium_sticks.wav"
     ).write_bytes(b"")
    with pytest.warns(UserWarning, match="'zz' ×1"):
        ds = load_dataset("enst", root)
    track = ds[0]
    assert track.track_id == "drummer_1/045_phrase_rock_simple_medium_sticks"
    assert track.audio_path is not None and track.beats is None and track.tempo is None
    assert track.labels.tolist() == [BD, HH, SD, CY, CY, TT, HH, CY]
    assert len(track.original_labels) == 10
    assert ds.metadata["dropped_labels"] == {"cb": 1}
    assert ds.metadata["unknown_labels"] == {"zz": 1}
    assert track.metadata["genre"] == "rock"


# ---------------------------------------------------------------- RBMA13


def test_rbma13_reader_reads_gm_notes_and_vogl_indices(tmp_path):
    root = tmp_path / "rbma_13"
    drums = root / "annotations" / "drums_full"
    beats = root / "annotations" / "beats"
    drums.mkdir(parents=True)
    beats.mkdir(parents=True)
    (root / "audio").mkdir()
    (root / "audio" / "RBMA-13-Track-01.mp3").write_bytes(b"")
    # Vogl indices: 0 kick, 1 snare, 2 closed hat, 17 crash, 8 has no GM note; GM 45 low tom
    (drums / "RBMA-13-Track-01.drums").write_text(
        "0.10\t0\n0.35\t2\n0.60\t1\n0.85\t45\n1.10\t17\n1.20\t8\n1.30\t56\n")
    (beats / "RBMA-13-Track-01.txt").write_text(
        "".join(f"{0.1 + 0.5 * i:.2f}\t{i % 3 + 1}\n" for i in range(12)))
    with pytest.warns(UserWarning, match="'8' ×1"):
        ds = load_dataset("rbma13", root)
    track = ds[0]
    assert track.labels.tolist() == [BD, HH, SD, TT, CY]
    assert track.tempo == pytest.approx(120.0) and track.meter == "3/4"
    np.testing.assert_allclose(track.downbeats, [0.1, 1.6, 3.1, 4.6])
    assert ds.metadata["dropped_labels"] == {"56": 1}  # cowbell: GM, but not a target
    assert track.audio_path.name == "RBMA-13-Track-01.mp3"


# ---------------------------------------------------------------- ADTOF


def test_adtof_reader_uses_its_class_notes(tmp_path):
    root = tmp_path / "adtofYT"
    (root / "annotations" / "aligned_drum").mkdir(parents=True)
    (root / "annotations" / "aligned_beats").mkdir(parents=True)
    (root / "annotations" / "aligned_drum" / "band - song.txt").write_text(
        "0.5\t35\n0.5\t42\n1.0\t38\n1.25\t47\n1.5\t49\n")
    (root / "annotations" / "aligned_beats" / "band - song.txt").write_text(
        "0.5\t1\n1.0\t2\n1.5\t3\n2.0\t4\n2.5\t1\n")
    ds = load_dataset("adtof", root)
    track = ds[0]
    assert track.track_id == "band - song" and track.audio_path is None
    assert track.labels.tolist() == [BD, HH, SD, TT, CY]
    assert track.meter == "4/4" and track.tempo == pytest.approx(120.0)
    assert ds.metadata["unknown_labels"] == {} and ds.metadata["dropped_labels"] == {}


def test_unknown_kind_and_missing_folder_say_what_is_wrong(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset kind"):
        load_dataset("nope", tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_dataset("mdb", tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="annotations/class"):
        load_dataset("mdb", tmp_path)


# ---------------------------------------------------------------- MDB Drums (shared data)


@pytest.mark.shared_data
def test_mdb_drums_on_shared_data(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every MDB label is known: no warning
        ds = load_dataset("mdb", shared_data / "mdb_drums")
    assert len(ds) >= 4
    rock = next(t for t in ds if t.track_id == "MusicDelta_Rock")
    assert rock.audio_path.name == "MusicDelta_Rock_MIX.wav"
    assert rock.labels[0] == BD and rock.meter == "4/4"
    assert 100 < rock.tempo < 120 and rock.downbeats[0] == pytest.approx(0.01)
    assert len(rock.original_labels) >= rock.onsets.size
    drums = load_dataset("mdb", shared_data / "mdb_drums", mix="drum_only")
    assert drums[0].audio_path.parent.name == "drum_only"
    # the stems as a dataset kind of their own, for --test NAME=mdb_drum_only:PATH
    from adtos.datasets.registry import DatasetSpec
    stems = DatasetSpec.parse(f"stems=mdb_drum_only:{shared_data / 'mdb_drums'}").load()
    assert [t.audio_path.name for t in stems] == [t.audio_path.name for t in drums]
    assert all(np.array_equal(a.onsets, b.onsets) for a, b in zip(stems, ds))
    assert sum(ds.metadata["dropped_labels"].values()) == sum(
        label == "OT" for t in ds for label in t.original_labels)


def test_adtos_velocities_from_the_song_midi_when_no_drum_midi(adtos_dir):
    for drum_midi in (adtos_dir / "annotations").glob("*.mid"):
        drum_midi.unlink()
    track = load_dataset("adtos", adtos_dir)[0]
    assert set(track.velocities[track.labels == BD].tolist()) == {100}
    assert load_dataset("adtos", adtos_dir, velocities=False)[0].velocities is None


def test_adtos_manifest_audio_hash_reaches_the_track(adtos_dir):
    """The transcriber keys its feature cache on it, so audio is not hashed again."""
    write_manifest(adtos_dir, [
        {"track_id": "train00000", "split": "train", "audio_sha256": "ab" * 32},
        {"track_id": "train00001", "split": "train", "audio_sha256": None},
    ])
    tracks = {t.track_id: t for t in load_dataset("adtos", adtos_dir)}
    assert tracks["train00000"].metadata["audio_sha256"] == "ab" * 32
    assert "audio_sha256" not in tracks["train00001"].metadata


@pytest.mark.parametrize("text,kind,path,subset,name,label", [
    ("mdb=mdb:../data/mdb_drums", "mdb", "../data/mdb_drums", None, "mdb", "mdb"),
    ("out/adtos:out/p16_r2.txt", "adtos", "out/adtos", "out/p16_r2.txt", None, "adtos"),
    ("ours=adtos:/x/ds:/x/val.txt", "adtos", "/x/ds", "/x/val.txt", "ours", "ours"),
    ("rbma13:rbma", "rbma13", "rbma", None, None, "rbma"),
    ("runs/a=b/ds", "adtos", "runs/a=b/ds", None, None, "ds"),   # '=' inside a path is no name
])
def test_one_dataset_spec_grammar(text, kind, path, subset, name, label):
    from pathlib import Path

    from adtos.datasets import DatasetSpec

    spec = DatasetSpec.parse(text)
    assert (spec.kind, spec.path, spec.subset, spec.name, spec.label) == (
        kind, Path(path), None if subset is None else Path(subset), name, label)
    assert DatasetSpec.parse(str(spec)) == spec                       # text round trip
    resolved = spec.resolved("/base")
    assert resolved.path.is_absolute() and (subset is None or resolved.subset.is_absolute())


def test_dataset_spec_errors_and_loading(adtos_dir, tmp_path):
    from adtos.datasets import DatasetSpec
    from adtos.scaling.config import resolve_spec
    from adtos.transcriber.sources import load_tracks

    with pytest.raises(ValueError, match="unknown kind 'mbd'"):
        DatasetSpec.parse("mbd:somewhere")
    with pytest.raises(FileNotFoundError, match="subset list not found"):
        DatasetSpec.parse(f"{adtos_dir}:{tmp_path / 'none.txt'}").load()
    listing = tmp_path / "list.txt"
    listing.write_text("val00000\ntrain00001\n")
    # the sweep, the transcriber and the readers read one spec the same way, in listed order
    assert [t.track_id for t in DatasetSpec.parse(f"{adtos_dir}:{listing}").load()] == \
        ["val00000", "train00001"]
    _, _, tracks = load_tracks(f"adtos:{adtos_dir}:{listing}", None)
    assert [t.track_id for t in tracks] == ["val00000", "train00001"]
    with pytest.raises(ValueError, match="not in the train split"):
        load_tracks(f"{adtos_dir}:{listing}", "train")
    assert resolve_spec(f"mdb:m:{listing.name}", tmp_path) == f"mdb:{tmp_path / 'm'}:{listing}"
