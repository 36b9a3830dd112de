"""Where the tracks are rendered: this process, a local process pool, or Ray.

Every executor runs the same `run_job` on the same jobs and each job writes
its own files, so the outputs do not depend on the executor or on the order
in which tracks finish.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver, reduction

from adtos.errors import MissingDependencyError
from adtos.fileio import held_lock_fd
from adtos.render.worker import RenderOptions, TrackJob, TrackResult, init_worker, run_job
from adtos.workers import exit_with_parent

OnResult = Callable[[TrackResult], None]

# Imported once in the forkserver, which every worker is forked from, instead
# of once per worker (scipy.signal alone costs about 2 CPU seconds).
# adtos.follow_parent first: the forkserver ends with the run even during the others.
WORKER_PRELOAD = ("adtos.follow_parent", "adtos.render.worker", "adtos.render.loudness",
                  "scipy.signal", "pyloudnorm", "pedalboard", "fluidsynth", "pretty_midi",
                  "soundfile", "adtos.presets.synth", "adtos.presets.effects")


def _forkserver_context():
    # forkserver: workers start from a clean, preloaded process (forking a
    # process that runs threads, as pyarrow and tqdm do, can deadlock).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(WORKER_PRELOAD))
    _ensure_forkserver()
    return context


def _ensure_forkserver() -> None:
    """Start the forkserver (if not running) with this process's id in its environment,
    for adtos.follow_parent; the variable is not left in this process's environment."""
    # Here only: importing follow_parent acts on the environment (it is the forkserver's preload).
    from adtos.follow_parent import ENV

    os.environ[ENV] = str(os.getpid())
    try:
        forkserver.ensure_running()
    finally:
        os.environ.pop(ENV, None)


def start_local_workers() -> None:
    """Start the forkserver now, so that its imports (about 2 s) overlap with the
    caller's own set-up (reading tracks and presets) instead of following it."""
    _forkserver_context()


def init_pool_worker(parent_pid: int, sample_rate: int, folder_lock: int | None = None) -> None:
    """Pool initializer: end with the run that started the pool, then build the bank.

    folder_lock: this worker's duplicate of the run's output-folder lock, kept
    open for the worker's life, so that a run resumed after a kill cannot take
    the folder while a worker of the killed run still writes into it.
    """
    exit_with_parent(parent_pid)
    init_worker(sample_rate)


class InheritedFd:
    """A file descriptor handed to a pool worker at its start (pickled as a duplicate)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self):
        return (_detach, (reduction.DupFd(self.fd),))


def _detach(duplicate) -> int:
    return duplicate.detach()


def run_local(jobs: Sequence[TrackJob], options: RenderOptions, workers: int,
              on_result: OnResult) -> None:
    """Render in this process (workers=1) or in a pool of `workers` processes."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            on_result(run_job(job, options))
        return

    context = _forkserver_context()
    lock = held_lock_fd(options.out_dir)
    initargs = (os.getpid(), options.sample_rate, None if lock is None else InheritedFd(lock))
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context,
                             initializer=init_pool_worker, initargs=initargs) as pool:
        futures = {pool.submit(run_job, job, options): job for job in jobs}
        try:
            for future in as_completed(futures):
                try:
                    result = future.result()
                except BrokenProcessPool:
                    # A worker died (killed, or a crash inside the synthesizer);
                    # its tracks are reported and a rerun renders them.
                    result = TrackResult(futures[future].track_id, None,
                                         "worker process died while rendering")
                on_result(result)
        except BaseException:
            for future in futures:
                future.cancel()
            raise


RAY_MISSING = ("--executor ray needs Ray, which is an optional extra: pip install 'adtos[ray]'")


class RenderActor:
    """A Ray actor: one SoundfontBank for the actor's life, like a pool worker."""

    def __init__(self, sample_rate: int) -> None:
        init_worker(sample_rate)

    def run(self, job: TrackJob, options: RenderOptions) -> TrackResult:
        return run_job(job, options)


def run_ray(jobs: Sequence[TrackJob], options: RenderOptions, workers: int | None,
            address: str | None, on_result: OnResult) -> None:
    """Render as tasks on Ray actors: an existing cluster at `address`, else a local Ray.

    On a cluster every node must have adtos installed and see the tracks and
    output folders at the same paths (a shared file system).
    """
    try:
        import ray  # optional dependency (adtos[ray])
        from ray.util import ActorPool
    except ImportError as error:
        raise MissingDependencyError(RAY_MISSING) from error

    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        if not jobs:
            return
        cpus = int(ray.cluster_resources().get("CPU", 1))
        n_actors = max(1, min(workers or cpus, cpus, len(jobs)))
        actor_class = ray.remote(num_cpus=1)(RenderActor)
        actors = [actor_class.remote(options.sample_rate) for _ in range(n_actors)]
        pool = ActorPool(actors)
        for result in pool.map_unordered(lambda actor, job: actor.run.remote(job, options), jobs):
            on_result(result)
    finally:
        if started_here:
            ray.shutdown()
