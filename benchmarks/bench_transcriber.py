"""Transcriber throughput: features per second of audio, snippets per second from
the feature cache, and training steps per second of the default-width CRNN.

    .venv/bin/python benchmarks/bench_transcriber.py [--steps 5] [--device auto]

Features are measured on MDB Drums' full mixes when ../shared/data is present
(set ADTOS_SHARED_DATA to point elsewhere), otherwise on generated toy tracks.
Snippets and steps use a generated toy dataset (16 tracks × 30 s) in a temporary
folder. On a GPU the training step uses mixed precision and the loader's
throughput is compared with the step rate: the loader keeps up when it delivers
more batches per second than the GPU consumes.

Recorded in benchmarks/results/transcriber.md, "Transcriber benchmark" (CPU) and
"The same benchmark on the H100"; the summary rows "#7 transcriber" of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def shared_data_root() -> Path:
    return Path(os.environ.get("ADTOS_SHARED_DATA", REPO.parent / "shared" / "data"))


def bench_features(toy_root: Path, repeats: int) -> dict:
    from adtos.datasets import load_dataset
    from adtos.transcriber.features import compute_features

    mdb = shared_data_root() / "mdb_drums"
    if mdb.is_dir():
        tracks, source = load_dataset("mdb", mdb).tracks, "MDB Drums full mixes"
    else:
        tracks, source = load_dataset("adtos", toy_root).tracks, "toy tracks"
    audios = [t.load_audio() for t in tracks]
    seconds = sum(a.size for a in audios) / 44100
    compute_features(audios[0][:44100])  # imports and first-call costs out of the timing
    times = []
    for _ in range(repeats):
        start = time.process_time()
        for audio in audios:
            compute_features(audio)
        times.append(time.process_time() - start)
    cpu = statistics.median(times)
    return {"source": source, "audio_s": seconds, "cpu_s": cpu, "x_realtime": seconds / cpu}


def bench_snippets(prepared, batches: int, workers: int) -> float:
    from adtos.transcriber.data import SnippetBatches, batch_loader

    dataset = SnippetBatches(prepared, seed=0, batch_size=32, snippet_frames=400, fps=100)
    loader = iter(batch_loader(dataset, 0, workers))
    next(loader)  # worker start-up out of the timing
    start = time.perf_counter()
    for _ in range(batches):
        next(loader)
    return batches * 32 / (time.perf_counter() - start)


def bench_steps(prepared, width: float, steps: int, device: str) -> dict:
    import torch

    from adtos.transcriber.data import SnippetBatches
    from adtos.transcriber.model import CRNN, parameter_count

    dataset = SnippetBatches(prepared, seed=0, batch_size=32, snippet_frames=400, fps=100)
    batches = [dataset[i] for i in range(steps + 1)]
    model = CRNN(width=width).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    use_amp = device == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    times, cpu_times = [], []
    for features, targets in batches:
        start, cpu_start = time.perf_counter(), time.process_time()
        features, targets = features.to(device), targets.to(device)
        with torch.autocast(device_type=device, dtype=torch.float16, enabled=use_amp):
            logits = model(features)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), targets)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    step = statistics.median(times[1:])  # the first step pays for allocations
    return {"params": parameter_count(model), "step_s": step, "steps_per_s": 1 / step,
            "cpu_s": statistics.median(cpu_times[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="training steps to time")
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the feature timing")
    parser.add_argument("--batches", type=int, default=20, help="batches of the snippet timing")
    parser.add_argument("--workers", type=int, default=2, help="loader processes to compare with 0")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from adtos.transcriber.data import prepare_tracks
    from adtos.transcriber.predict import resolve_device
    from adtos.transcriber.toy import make_toy_dataset
    from adtos.datasets import load_dataset

    device = resolve_device(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}"
          + (f" ({torch.cuda.get_device_name()})" if device == "cuda" else
             "; no GPU on this machine"))
    with tempfile.TemporaryDirectory() as tmp:
        toy = make_toy_dataset(Path(tmp) / "toy", tracks=16, seconds=30.0, seed=0)
        f = bench_features(toy, args.repeats)
        print(f"features: {f['audio_s']:.0f} s of {f['source']} in {f['cpu_s']:.2f} CPU-s "
              f"= {f['x_realtime']:.0f}x real time per core (median of {args.repeats})")
        prepared, _ = prepare_tracks(load_dataset("adtos", toy).tracks, Path(tmp) / "cache",
                                     progress=False)
        for workers in (0, args.workers):
            rate = bench_snippets(prepared, args.batches, workers)
            print(f"snippets from the cache (4 s, batch 32, {workers} loader processes): "
                  f"{rate:.0f} snippets/s = {rate / 32:.1f} batches/s")
        s = bench_steps(prepared, args.width, args.steps, device)
        print(f"training (width {args.width:g}, {s['params']:,} parameters, batch 32 × 4 s, "
              f"{'mixed precision' if device == 'cuda' else 'fp32'}): {s['step_s']:.2f} s/step = "
              f"{s['steps_per_s']:.3f} steps/s = {32 * s['steps_per_s']:.1f} snippets/s; "
              f"{s['cpu_s']:.1f} CPU-s/step (median of {args.steps})")
        if device == "cuda":
            verdict = "keeps up" if rate / 32 > s["steps_per_s"] else "does NOT keep up"
            print(f"loader with {args.workers} processes: {rate / 32:.1f} batches/s vs "
                  f"{s['steps_per_s']:.1f} steps/s: the loader {verdict}")


if __name__ == "__main__":
    main()
