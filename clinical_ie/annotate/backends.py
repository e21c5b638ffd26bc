"""Where work units run: this process, a pool of local processes, or Ray actors.

Each backend takes :class:`~clinical_ie.annotate.worker.WorkUnit` s and yields their
:class:`~clinical_ie.annotate.worker.UnitResult` s; every worker is a
:class:`~clinical_ie.annotate.worker.NoteAnnotator` that loads the model once. Units are the
same whatever the backend, so the records are too.

- ``local``, one worker: in this process.
- ``local``, N workers: N spawned processes (a ``ProcessPoolExecutor``), each with
  ``threads`` torch threads, at most ``2 N`` units in flight. A worker ends itself when the
  driver dies (killed, or ended at a fail point), so that none is left orphaned.
- ``ray``: Ray Data, ``from_items`` of the units, ``map_batches`` with a callable class on a
  fixed pool of N actors (``num_cpus=threads``, ``num_gpus=1`` each with ``gpu``), results
  streamed back to the driver, which writes the shards. Without ``address`` a local Ray
  instance is started (all cores, Ray's usage statistics off unless ``RAY_USAGE_STATS_ENABLED``
  says otherwise) and shut down afterwards; with one, the driver joins that cluster and
  leaves it running.
"""

import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Iterable, Iterator, Optional

from spacy.language import Language

from .worker import AnnotatorConfig, NoteAnnotator, UnitResult, WorkUnit

logger = logging.getLogger(__name__)

BACKENDS = ("local", "ray")
RAY_UNITS_PER_BLOCK = 4


class BackendError(RuntimeError):
    """A backend could not run (Ray missing, a worker process died)."""


def available_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def threads_per_worker(workers: int) -> int:
    """Torch threads per worker so that ``workers`` workers share the cores without oversubscription."""
    return max(1, available_cores() // workers)


# --- local -------------------------------------------------------------------------------------

_worker_annotator: Optional[NoteAnnotator] = None


def _start_worker(config: AnnotatorConfig) -> None:
    global _worker_annotator
    threading.Thread(target=_exit_with_parent, args=(multiprocessing.parent_process().sentinel,), daemon=True).start()
    _worker_annotator = NoteAnnotator(config)


def _exit_with_parent(parent_sentinel: int) -> None:
    """End this worker process once its parent (the driver) is gone: the pool's queues would
    keep an orphan waiting for work forever."""
    multiprocessing.connection.wait([parent_sentinel])
    os._exit(1)


def _annotate_in_worker(unit: WorkUnit) -> UnitResult:
    return _worker_annotator(unit)


def local_results(
    config: AnnotatorConfig, units: Iterable[WorkUnit], workers: int = 1, nlp: Optional[Language] = None
) -> Iterator[UnitResult]:
    """Results of ``units`` in order, from this process (``workers=1``) or a process pool.

    ``nlp``: an already loaded pipeline to use in this process (``workers=1`` only).
    """
    if workers == 1:
        annotator = NoteAnnotator(config, nlp)
        yield from (annotator(unit) for unit in units)
        return
    if nlp is not None:
        raise ValueError("a loaded pipeline can only be used with one worker: pass the model's name or folder")
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker, initargs=(config,))
    in_flight = deque()
    try:
        for unit in units:
            in_flight.append(pool.submit(_annotate_in_worker, unit))
            if len(in_flight) >= 2 * workers:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
    except BrokenProcessPool as error:
        raise BackendError(
            "a worker process died (out of memory, or killed); finished shards are kept: run the command again to resume"
        ) from error
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --- Ray ---------------------------------------------------------------------------------------


class RayNoteAnnotator:
    """Ray Data callable class: the model is loaded once per actor; a batch holds JSON work units."""

    def __init__(self, config: AnnotatorConfig):
        self.annotator = NoteAnnotator(config)

    def __call__(self, batch):
        import numpy

        results = [self.annotator(WorkUnit.from_json(unit)).to_json() for unit in batch["unit"]]
        return {"result": numpy.array(results, dtype=object)}


def _import_ray():
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise BackendError("the ray backend needs Ray Data: pip install 'clinical-ie[ray]'") from error
    return ray


def ray_results(
    config: AnnotatorConfig, units: Iterable[WorkUnit], workers: int, address: Optional[str] = None, gpu: bool = False
) -> Iterator[UnitResult]:
    """Results of ``units`` from a pool of ``workers`` Ray actors (in no particular order)."""
    ray = _import_ray()
    rows = [{"unit": unit.to_json()} for unit in units]
    if not rows:
        return
    started_here = not ray.is_initialized()
    if started_here:
        if not address:  # Ray reports usage statistics to its servers unless told not to
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(
            address=address,
            num_cpus=None if address else available_cores(),
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        blocks = min(len(rows), max(4 * workers, -(-len(rows) // RAY_UNITS_PER_BLOCK)))
        dataset = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
            RayNoteAnnotator,
            fn_constructor_kwargs={"config": config},
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=config.threads or 1,
            num_gpus=1 if gpu else 0,
        )
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            yield from (UnitResult.from_json(result) for result in batch["result"])
    finally:
        if started_here:
            ray.shutdown()
