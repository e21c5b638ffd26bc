"""One annotation run: scan the input, resume the output folder, run the backend, write shards."""

import contextlib
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Dict, Iterable, Optional, Union

import spacy
from spacy.language import Language

from .backends import BACKENDS, local_results, ray_results, threads_per_worker
from .database import NoteNlpDatabase
from .fhir_profiles import DEFAULT_FHIR_BASE, STRUCTURE_DEFINITIONS_FOLDER, check_fhir_base, write_structure_definitions
from .inputs import DEFAULT_MAX_CHARS, scan_input
from .output import ShardedOutput
from .worker import AnnotatorConfig, UnitResult

logger = logging.getLogger(__name__)


@dataclass
class AnnotationSettings:
    """How to run: backend and workers, output format and sharding, limits.

    ``confidence_threshold``: the CRF heads write only spans at least this confident (default 0:
    all). ``threads``: torch threads per worker (default: the cores divided among the workers; one
    per Ray actor on an existing cluster). ``max_shards``: annotate at most this many more
    shards, then stop (a time-boxed job; rerun to go on). ``log_every``: seconds between
    progress lines. ``quantize``: load the model with its encoder quantized to int8 for CPU
    inference (``clinical_ie.pipeline.transformer.QUANTIZE_ON_LOAD``). ``fhir_base``: the canonical
    base of the FHIR output's extensions (:mod:`.fhir_profiles`); their StructureDefinitions
    are written under it to ``structure-definitions/`` of the output folder. ``restart``: remove what
    an earlier run left in the output folder and annotate everything again (where the input or
    settings changed, or the manifest is damaged). ``database``: URL of the database
    (``duckdb:///path.db``, ``postgresql://...``) that the ``note_nlp`` format also writes its rows
    into, shard by shard, from this process (the driver, with either backend).
    """

    backend: str = "local"
    workers: int = 1
    gpu: bool = False
    address: Optional[str] = None
    output_format: str = "jsonl"
    batch_size: int = 8
    shard_size: int = 1000
    max_chars: int = DEFAULT_MAX_CHARS
    threads: Optional[int] = None
    max_shards: Optional[int] = None
    brat: bool = False
    confidence_threshold: float = 0.0
    quantize: bool = False
    fhir_base: str = DEFAULT_FHIR_BASE
    restart: bool = False
    log_every: float = 10.0
    database: Optional[str] = None

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {self.backend!r}")
        for name in ("workers", "batch_size", "shard_size", "max_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not 0.0 <= self.confidence_threshold <= 1.0:
            raise ValueError("confidence_threshold must be in [0, 1]")
        self.fhir_base = check_fhir_base(self.fhir_base)
        if self.database and self.output_format != "note_nlp":
            raise ValueError("a database takes NOTE_NLP rows: use the note_nlp format")

    def worker_threads(self) -> int:
        if self.threads:
            return self.threads
        if self.backend == "ray" and self.address:
            return 1
        return threads_per_worker(self.workers)


@dataclass
class AnnotationSummary:
    """What a run did. Rates count only the notes annotated in this run. ``complete``: every
    shard is in the output folder; ``already_complete``: it was before this run, which did nothing."""

    notes: int
    notes_done_before: int
    notes_annotated: int = 0
    notes_failed: int = 0
    words: int = 0
    seconds: float = 0.0
    shards_written: int = 0
    shards_total: int = 0
    complete: bool = False
    already_complete: bool = False
    worker_peak_rss_mib: Dict[str, float] = field(default_factory=dict)
    warnings: Dict[str, int] = field(default_factory=dict)
    brat_skipped: int = 0

    @property
    def notes_per_second(self) -> float:
        return (self.notes_annotated + self.notes_failed) / self.seconds if self.seconds else 0.0

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds else 0.0

    def to_dict(self) -> Dict[str, object]:
        return {**asdict(self), "notes_per_second": self.notes_per_second, "words_per_second": self.words_per_second}


def model_identity(model: Union[str, Path, Language]) -> Dict[str, str]:
    """``{"name", "version"}`` of a pipeline, an installed package or a pipeline folder (its meta)."""
    if isinstance(model, Language):
        meta = model.meta
    elif Path(model).is_dir():
        meta = spacy.util.load_meta(Path(model) / "meta.json")
    elif spacy.util.is_package(str(model)):
        meta = spacy.util.load_meta(spacy.util.get_package_path(str(model)) / "meta.json")
    else:
        raise OSError(f"model {str(model)!r} is neither an installed package nor a pipeline folder")
    return {"name": f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}", "version": str(meta.get("version", ""))}


class Progress:
    """Periodic log line: notes done of the total, notes per second, words per second, ETA."""

    def __init__(self, total: int, done_before: int, every: float):
        self.total, self.done, self.every = total, done_before, every
        self.done_before = done_before
        self.started = self.last = perf_counter()

    def update(self, notes: int, summary: AnnotationSummary, force: bool = False) -> None:
        self.done += notes
        now = perf_counter()
        if not force and now - self.last < self.every:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        rate = (self.done - self.done_before) / elapsed
        remaining = (self.total - self.done) / rate if rate else float("inf")
        eta = f"{int(remaining // 3600)}:{int(remaining % 3600 // 60):02d}:{int(remaining % 60):02d}" if rate else "?"
        logger.info(
            "annotated %d of %d notes (%.1f%%): %.1f notes/s, %.0f words/s, ETA %s",
            self.done, self.total, 100 * self.done / max(self.total, 1), rate, summary.words / elapsed, eta,
        )


def _write_results(results: Iterable[UnitResult], output: ShardedOutput, summary: AnnotationSummary, progress: Progress) -> None:
    """Hand every result to ``output``, keeping ``summary`` and ``progress`` up to date."""
    started = perf_counter()
    for result in results:
        summary.notes_failed += result.failed
        summary.notes_annotated += len(result.records) - result.failed
        summary.words += result.words
        summary.seconds = perf_counter() - started
        pid = str(result.pid)
        summary.worker_peak_rss_mib[pid] = max(summary.worker_peak_rss_mib.get(pid, 0.0), result.peak_rss_mib)
        for code, count in result.warnings.items():
            summary.warnings[code] = summary.warnings.get(code, 0) + count
        if output.add(result) is not None:
            summary.shards_written += 1
        progress.update(len(result.records), summary)
    summary.seconds = perf_counter() - started
    summary.complete = output.complete
    summary.brat_skipped = output.brat_skipped
    if summary.notes_annotated + summary.notes_failed:
        progress.update(0, summary, force=True)


def run_annotation(
    model: Union[str, Path, Language],
    input_path: Union[str, Path],
    output_dir: Union[str, Path],
    settings: Optional[AnnotationSettings] = None,
) -> AnnotationSummary:
    """Annotate every note of ``input_path`` into ``output_dir`` (shards + manifest), resuming
    what an earlier run over the same input left; see :mod:`clinical_ie.annotate`."""
    settings = settings or AnnotationSettings()
    index = scan_input(input_path)
    logger.info("input: %s, %d notes", index.spec.describe(), len(index))
    if index.ignored_files:
        logger.warning("%d entries of the input folder are not .txt files and were ignored", index.ignored_files)
    if settings.backend == "ray" and isinstance(model, Language):
        raise ValueError("the ray backend loads the model in its actors: pass the model's name or folder")
    identity = model_identity(model)
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(NoteNlpDatabase(settings.database)) if settings.database else None
        output = stack.enter_context(ShardedOutput(
            output_dir, index, identity, settings.output_format, settings.shard_size, settings.max_chars, settings.brat,
            confidence_threshold=settings.confidence_threshold, quantize=settings.quantize,
            fhir_base=settings.fhir_base, restart=settings.restart, database=database,
        ))
        if settings.output_format == "fhir":
            write_structure_definitions(Path(output_dir) / STRUCTURE_DEFINITIONS_FOLDER, settings.fhir_base)
        pending = output.pending_shards()
        if settings.max_shards is not None:
            pending = pending[: settings.max_shards]
        summary = AnnotationSummary(len(index), output.notes_done(), shards_total=output.manifest["shards_total"])
        if output.complete:
            summary.complete = summary.already_complete = True
            logger.info("the output folder is already complete (%d shards): nothing to annotate", summary.shards_total)
            return summary
        logger.info(
            "%d of %d shards already done; annotating %d with the %s backend, %d worker(s), %d thread(s) each",
            len(output.done_shards), summary.shards_total, len(pending), settings.backend, settings.workers,
            settings.worker_threads(),
        )
        config = AnnotatorConfig(
            "" if isinstance(model, Language) else str(model),
            index.spec, settings.max_chars, settings.gpu, settings.worker_threads(), settings.brat,
            settings.confidence_threshold, settings.quantize, note_nlp=settings.output_format == "note_nlp",
        )
        units = output.work_units(pending, settings.batch_size)
        if settings.backend == "ray":
            results = ray_results(config, units, settings.workers, settings.address, settings.gpu)
        else:
            results = local_results(config, units, settings.workers, model if isinstance(model, Language) else None)
        _write_results(results, output, summary, Progress(len(index), summary.notes_done_before, settings.log_every))
    if summary.warnings:
        logger.warning("warnings while annotating (messages withheld, they may quote notes): %s", summary.warnings)
    return summary

