"""Annotate notes with a trained pipeline, from one process to a Ray cluster, resumably.

INPUT is a folder of .txt notes (id = file name without .txt), a JSON Lines file with "id" and
"text" fields, or a Parquet file with "id" and "text" columns. OUTPUT_DIR receives shards
(part-00000.jsonl, ... or .parquet) holding one record per note (id, entities, medications,
error), or with --format fhir part-00000.ndjson, ... holding one FHIR R4 Bundle per note (and
structure-definitions/, the StructureDefinitions of its extensions under --fhir-base), or with
--format note_nlp Parquet shards of OMOP CDM v5.4 NOTE_NLP rows (one per medication span), also
written into the database --db names, and manifest.json; run the same command again after a
crash or --max-shards to finish
the remaining shards (a rerun of a finished run changes nothing). Exit status: 0 when every
note has its record, 3 when shards remain, 2 on an error (the input or settings changed:
--restart; a damaged manifest; another run on OUTPUT_DIR; a full disk), 86 only when killed
at a fail point of the fault-injection tests.
"""

import json
import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from . import AnnotationSettings, run_annotation
from .backends import BackendError
from .database import DatabaseError
from .fhir_profiles import DEFAULT_FHIR_BASE
from .inputs import DEFAULT_MAX_CHARS, InputError
from .output import FORMATS, OutputError

INCOMPLETE_EXIT_STATUS = 3
ERROR_EXIT_STATUS = 2

Backend = Enum("Backend", {name: name for name in ("local", "ray")}, type=str)
OutputFormat = Enum("OutputFormat", {name: name for name in FORMATS}, type=str)

app = typer.Typer(add_completion=False, help=__doc__, rich_markup_mode=None)


@app.command()
def annotate(
    model: str = typer.Argument(..., help="installed pipeline package (en_clinical_ie) or pipeline folder"),
    input: Path = typer.Argument(..., help="folder of .txt notes, .jsonl file or .parquet file"),
    output_dir: Path = typer.Argument(..., help="folder for the shards and manifest.json"),
    backend: Backend = typer.Option("local", help="local processes or Ray Data"),
    workers: int = typer.Option(1, help="worker processes or Ray actors, each loading the model once"),
    gpu: bool = typer.Option(False, help="annotate on GPU (Ray: one GPU per actor)"),
    address: Optional[str] = typer.Option(None, help="address of a running Ray cluster to join (default: start a local one)"),
    output_format: OutputFormat = typer.Option(
        "jsonl", "--format", help="shard format: jsonl, parquet, fhir (NDJSON of FHIR R4 Bundles) or note_nlp (OMOP NOTE_NLP rows, Parquet)"
    ),
    db: Optional[str] = typer.Option(None, "--db", help="with --format note_nlp: also write the rows into this database (duckdb:///path.db or postgresql://...)"),
    batch_size: int = typer.Option(8, help="notes per nlp.pipe batch"),
    shard_size: int = typer.Option(1000, help="notes per output shard"),
    max_chars: int = typer.Option(DEFAULT_MAX_CHARS, help="longer notes get an error record"),
    threads: Optional[int] = typer.Option(None, help="torch threads per worker (default: cores / workers; 1 per actor on a Ray cluster)"),
    max_shards: Optional[int] = typer.Option(None, help="annotate at most this many more shards, then stop (rerun to go on)"),
    confidence_threshold: float = typer.Option(0.0, help="write only entities at least this confident (span._.confidence; 0: all)"),
    quantize: bool = typer.Option(False, help="run the encoder int8 (dynamic quantization, CPU; faster, slightly different scores)"),
    brat: bool = typer.Option(False, help="also write brat/<id>.txt and .ann (T and R lines) per annotated note"),
    fhir_base: str = typer.Option(DEFAULT_FHIR_BASE, help="canonical base of the FHIR extensions (<base>/StructureDefinition/<id>), recorded in the manifest"),
    restart: bool = typer.Option(False, help="remove the output a previous run left in OUTPUT_DIR and annotate everything again "
                                               "(needed when the input or settings changed, or the manifest is damaged)"),
    log_every: float = typer.Option(10.0, help="seconds between progress lines"),
    summary: Optional[Path] = typer.Option(None, help="write the run's summary (counts, rates, peak memory per worker) as JSON here"),
) -> None:
    """Annotate the notes of INPUT with MODEL into OUTPUT_DIR (see the module help above)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    try:
        settings = AnnotationSettings(
            backend=backend.value, workers=workers, gpu=gpu, address=address, output_format=output_format.value,
            batch_size=batch_size, shard_size=shard_size, max_chars=max_chars, threads=threads, max_shards=max_shards,
            confidence_threshold=confidence_threshold, quantize=quantize, brat=brat, restart=restart, log_every=log_every,
            fhir_base=fhir_base, database=db,
        )
        result = run_annotation(model, input, output_dir, settings)
    except (InputError, OutputError, BackendError, DatabaseError, ValueError, OSError) as error:
        print(f"annotate: {error}", file=sys.stderr)
        raise typer.Exit(ERROR_EXIT_STATUS)
    if summary:
        summary.write_text(json.dumps(result.to_dict(), indent=2), encoding="utf8")
    if result.already_complete:
        print(f"already complete: all {result.notes} notes in {result.shards_total} shard(s); nothing annotated")
        return
    print(
        f"{result.notes_annotated} notes annotated and {result.notes_failed} with an error record in "
        f"{result.seconds:.1f} s ({result.notes_per_second:.1f} notes/s, {result.words_per_second:.0f} words/s); "
        f"{result.shards_written} shard(s) written, {result.notes_done_before} notes were done before"
    )
    if not result.complete:
        print(f"incomplete: shards remain of {result.shards_total}; run the same command again to finish", file=sys.stderr)
        raise typer.Exit(INCOMPLETE_EXIT_STATUS)


if __name__ == "__main__":
    app(prog_name="annotate")
