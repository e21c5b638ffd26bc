"""Annotation at scale: from one process to a Ray cluster, no note lost or repeated.

:func:`run_annotation` reads notes from a folder of ``.txt`` files, a JSON Lines file or a
Parquet file (:mod:`.inputs`), annotates them in work units with the ``local`` or ``ray``
backend (:mod:`.backends`, :mod:`.worker`) and writes one record per note
(:mod:`.schema`), or its FHIR R4 Bundle (:mod:`.fhir`), into shards with a manifest
(:mod:`.output`); a rerun resumes where a stopped run left off, and changes nothing once the
run is complete. :func:`read_annotations` reads a finished output back. :mod:`.fail_points`
names the points where the fault-injection tests kill the output code.
"""

from .inputs import InputError, NoteError, scan_input
from .output import OutputError, read_annotations
from .run import AnnotationSettings, AnnotationSummary, run_annotation
from .schema import RECORD_JSON_SCHEMA

__all__ = [
    "AnnotationSettings",
    "AnnotationSummary",
    "InputError",
    "NoteError",
    "OutputError",
    "RECORD_JSON_SCHEMA",
    "read_annotations",
    "run_annotation",
    "scan_input",
]
