"""Pack a dataset for training on another machine without its audio; unpack it there.

    python tools/pack_features.py pack [KIND:]DATASET PACKED [--cache DIR] [--audio]
    python tools/pack_features.py unpack PACKED DATASET [--cache DIR]

A GPU machine that can only receive a few tens of MB needs neither the audio of
an ADTOS dataset (7 MB a minute of FLAC) nor its fp32 feature cache (2 MB a
minute): training reads only the cached features, which the ADTOS reader finds
by the manifest's `audio_sha256` without opening the audio (see
`adtos.transcriber.features.cached_features`). `pack` therefore writes

    PACKED/pack.json          what was packed: kind, tracks, feature shapes, audio formats
    PACKED/files.tar.xz       the files the dataset reader needs (ADTOS: manifest.parquet,
                              render.parquet / tracks.parquet when present, annotations/,
                              midi/; MDB Drums: annotations/), never the audio
    PACKED/<audio path>.flac  (with --audio) each track's audio, lossless
    PACKED/features/*.xz      one per track: its cached features as float16, byte-shuffled
                              (the low bytes of all values, then the high bytes), xz-compressed
                              (about 0.67 MB a minute of audio instead of 2.1 MB)

and `unpack` restores the reader's files and the cache under the same names
(`<cache>/<sha256>.npy`, float32, shape unchanged), then checks that every track
of the unpacked dataset finds its feature file.

Precision: float16 keeps 11 significant bits, so each restored feature differs
from the original by less than 1e-3 relative (at most 2^-11 = 4.9e-4 for values
of 6.1e-5 and more, the float16 normal range; below that by less than 3e-8
absolute). The features are log10(1 + |X|) of a spectrogram, so this is far
below the differences between two renderings of the same track; still, a model
trained on unpacked features has seen slightly different inputs than one
trained on the originals.

Readers that key their features by hashing the audio file itself (MDB Drums has
no stored hash) cannot use a packed cache, because the audio would not travel.
For them `--audio` carries each track's audio losslessly as FLAC instead, and
`unpack` writes it back in its original format and sample encoding (same
samples; the file bytes, and so the cache key, may differ), so its features are
computed on the receiving machine.
"""

from __future__ import annotations

import argparse
import io
import json
import lzma
import sys
import tarfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FORMAT = 1
# What each reader reads besides audio, relative to the dataset folder (files or folders).
READER_FILES = {
    "adtos": ("manifest.parquet", "render.parquet", "tracks.parquet", "annotations", "midi"),
    "mdb": ("annotations",),
}
# Integer sample encodings that FLAC stores losslessly, and the dtype that reads them exactly.
LOSSLESS_SUBTYPES = {"PCM_16": "int16", "PCM_24": "int32", "PCM_S8": "int16", "PCM_U8": "int16"}


def pack_array(features: np.ndarray) -> bytes:
    """float32 (frames, bands) → xz of its float16 bytes, low bytes first, then high bytes."""
    half = np.asarray(features, dtype="<f4").astype("<f2")
    if not np.isfinite(half).all():
        raise ValueError("features overflow float16")
    planes = half.view(np.uint8).reshape(-1, 2).T  # row 0: low bytes, row 1: high bytes
    return lzma.compress(planes.tobytes(), preset=6)


def unpack_array(data: bytes, shape) -> np.ndarray:
    """Inverse of pack_array: float32 array of `shape`."""
    planes = np.frombuffer(lzma.decompress(data), dtype=np.uint8).reshape(2, -1)
    return np.ascontiguousarray(planes.T).view("<f2").reshape(shape).astype(np.float32)


def _dataset(spec: str):
    from adtos.datasets import load_dataset, parse_dataset_spec

    _, kind, path = parse_dataset_spec(spec)
    if kind not in READER_FILES:
        raise SystemExit(f"pack: kind {kind!r} is not supported; add the files its reader "
                         f"needs to READER_FILES ({', '.join(READER_FILES)} are)")
    return kind, Path(path), load_dataset(kind, path)


def _tar_reader_files(root: Path, kind: str, out: Path) -> list[str]:
    names = [n for n in READER_FILES[kind] if (root / n).exists()]
    with tarfile.open(out, "w:xz") as tar:
        for name in names:
            tar.add(root / name, arcname=name,
                    filter=lambda info: None if Path(info.name).name.startswith(".") else info)
    return names


def pack(spec: str, out: Path, cache: str | None, audio: bool) -> None:
    import soundfile as sf

    from adtos.transcriber.features import (DEFAULT_SETTINGS, default_cache_dir,
                                            feature_cache_path, track_audio_sha256)

    kind, root, dataset = _dataset(spec)
    tracks = list(dataset.tracks)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"format": FORMAT, "kind": kind, "dataset": root.name,
                "settings": json.loads(DEFAULT_SETTINGS.key()),
                "tracks": [t.track_id for t in tracks], "features": {}, "audio": {}}
    manifest["files"] = _tar_reader_files(root, kind, out / "files.tar.xz")
    if audio:
        for track in tracks:
            if track.audio_path is None:
                raise SystemExit(f"pack: track {track.track_id} has no audio file")
            source = Path(track.audio_path)
            info = sf.info(str(source))
            if info.subtype not in LOSSLESS_SUBTYPES:
                raise SystemExit(f"pack: {source} is {info.subtype}; FLAC would not be lossless")
            samples, rate = sf.read(str(source), dtype=LOSSLESS_SUBTYPES[info.subtype],
                                    always_2d=True)
            relative = source.relative_to(root).as_posix()
            target = out / (relative + ".flac")
            target.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(target), samples, rate, subtype=info.subtype, format="FLAC")
            manifest["audio"][relative] = {"subtype": info.subtype, "format": info.format,
                                           "samplerate": rate, "frames": len(samples)}
    else:
        cache_dir = Path(cache) if cache else default_cache_dir(root)
        missing = []
        (out / "features").mkdir(exist_ok=True)
        for track in tracks:
            if not (track.metadata or {}).get("audio_sha256"):
                raise SystemExit(f"pack: track {track.track_id} has no stored audio_sha256, so "
                                 "its reader finds features by hashing the audio, which does not "
                                 "travel; pack its audio instead (--audio)")
            path = feature_cache_path(track_audio_sha256(track), cache_dir, DEFAULT_SETTINGS)
            if not path.exists():
                missing.append(track.track_id)
                continue
            features = np.load(path)
            (out / "features" / f"{path.stem}.xz").write_bytes(pack_array(features))
            manifest["features"][path.name] = {"track_id": track.track_id,
                                               "shape": list(features.shape)}
        if missing:
            raise SystemExit(f"pack: {len(missing)} tracks have no cached features in "
                             f"{cache_dir} (e.g. {missing[0]}); compute them first (adtos train "
                             "does, or adtos.transcriber.data.prepare_tracks)")
    (out / "pack.json").write_text(json.dumps(manifest, indent=1) + "\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"packed {len(tracks)} tracks of {root} ({kind}): "
          f"{len(manifest['features'])} feature files, {len(manifest['audio'])} audio files, "
          f"{size / 1e6:.1f} MB in {out}")


def unpack(packed: Path, dest: Path, cache: str | None) -> None:
    from adtos.datasets import load_dataset
    from adtos.transcriber.features import (DEFAULT_SETTINGS, default_cache_dir,
                                            feature_cache_path, track_audio_sha256)

    manifest = json.loads((packed / "pack.json").read_text())
    if manifest.get("format") != FORMAT:
        raise SystemExit(f"unpack: {packed} has format {manifest.get('format')}, expected {FORMAT}")
    if manifest["settings"] != json.loads(DEFAULT_SETTINGS.key()):
        raise SystemExit("unpack: the features were computed with other settings than this "
                         "checkout's defaults")
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(packed / "files.tar.xz", "r:xz") as tar:
        tar.extractall(dest, filter="data")
    if manifest["audio"]:
        import soundfile as sf

        for relative, info in manifest["audio"].items():
            samples, rate = sf.read(str(packed / (relative + ".flac")),
                                    dtype=LOSSLESS_SUBTYPES[info["subtype"]], always_2d=True)
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(target), samples, rate, subtype=info["subtype"], format=info["format"])
    cache_dir = Path(cache) if cache else default_cache_dir(dest)
    if manifest["features"]:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for name, info in manifest["features"].items():
            data = (packed / "features" / f"{Path(name).stem}.xz").read_bytes()
            buffer = io.BytesIO()
            np.save(buffer, unpack_array(data, tuple(info["shape"])))
            (cache_dir / name).write_bytes(buffer.getvalue())
    # The unpacked dataset must read back with the same tracks, each finding its features
    # (or, for an audio pack, its audio).
    dataset = load_dataset(manifest["kind"], dest)
    ids = [t.track_id for t in dataset.tracks]
    if ids != manifest["tracks"]:
        raise SystemExit(f"unpack: {dest} reads back {len(ids)} tracks, "
                         f"{len(manifest['tracks'])} were packed")
    for track in dataset.tracks:
        if manifest["features"]:
            path = feature_cache_path(track_audio_sha256(track), cache_dir, DEFAULT_SETTINGS)
            if path.name not in manifest["features"] or not path.exists():
                raise SystemExit(f"unpack: track {track.track_id} does not find its features")
        elif track.audio_path is None or not Path(track.audio_path).exists():
            raise SystemExit(f"unpack: track {track.track_id} does not find its audio")
    carried = (f"{len(manifest['features'])} feature files in {cache_dir}" if manifest["features"]
               else f"{len(manifest['audio'])} audio files")
    print(f"unpacked {len(ids)} tracks ({manifest['kind']}) into {dest}: {carried}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pack", help="dataset → packed folder (features or audio, no raw "
                                         "fp32 cache)")
    p.add_argument("dataset", metavar="[KIND:]DATASET", help="e.g. out/adtos or mdb:path/mdb_drums")
    p.add_argument("packed", type=Path, metavar="PACKED", help="folder to write")
    p.add_argument("--cache", metavar="DIR", help="feature cache to read (default: the dataset's, "
                                                  "as adtos train finds it)")
    p.add_argument("--audio", action="store_true",
                   help="carry the tracks' audio as FLAC instead of features (for readers that "
                        "hash the audio, e.g. mdb)")
    p = commands.add_parser("unpack", help="packed folder → dataset folder and feature cache")
    p.add_argument("packed", type=Path, metavar="PACKED")
    p.add_argument("dest", type=Path, metavar="DATASET", help="dataset folder to create")
    p.add_argument("--cache", metavar="DIR", help="feature cache to write (default: the "
                                                  "dataset's, as adtos train finds it)")
    args = parser.parse_args()
    if args.command == "pack":
        pack(args.dataset, args.packed, args.cache, args.audio)
    else:
        unpack(args.packed, args.dest, args.cache)


if __name__ == "__main__":
    main()
