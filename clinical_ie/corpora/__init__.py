"""Corpus readers and writers: brat standoff (n2c2 2018), nursing-handover token files, and the
public corpora for development: the ADE corpus, the DDI corpus, BioScope and MTSamples notes.

Every reader turns files into Docs carrying the data model of ``docs/data-model.md`` and
counts what it read, kept and dropped in a :class:`ConversionReport`.
"""

from pathlib import Path
from typing import Collection, Optional

from .ade import read_ade_corpus
from .bioscope import read_bioscope_folder
from .brat import read_brat_document, read_brat_folder, select_ents, write_brat_document
from .ddi import read_ddi_folder
from .handover import read_handover_document, read_handover_folder
from .conversion_report import ConversionError, ConversionReport
from .split import downsample_sentences, read_docbin, split_dev, split_off, write_docbin

SOURCE_FORMATS = ("brat", "handover", "ade", "ddi", "bioscope")


def convert_folder(
    source_format: str,
    input_dir: Path,
    output: Path,
    strict: bool = False,
    labels: Optional[Collection[str]] = None,
    sample_ratio: Optional[float] = None,
    seed: int = 0,
    progress_every: int = 100,
    **reader_options,
) -> ConversionReport:
    """Convert every document of ``input_dir`` into the DocBin ``output``.

    ``source_format`` is one of :data:`SOURCE_FORMATS`; ``labels`` (brat only) keeps
    only those entity labels; ``sample_ratio`` applies :func:`downsample_sentences`
    with ``seed``; ``reader_options`` go to the reader (bioscope: ``clinical_texts``,
    ``parts``). ``strict`` raises :class:`ConversionError` at the first problem.
    """
    report = ConversionReport(source_format, strict=strict)
    if source_format == "brat":
        docs = read_brat_folder(input_dir, report, labels=labels)
    elif source_format == "handover":
        docs = read_handover_folder(input_dir, report)
    elif source_format == "ade":
        docs = read_ade_corpus(input_dir, report)
    elif source_format == "ddi":
        docs = read_ddi_folder(input_dir, report)
    elif source_format == "bioscope":
        docs = read_bioscope_folder(input_dir, report, **reader_options)
    else:
        raise ValueError(f"source_format must be one of {SOURCE_FORMATS}, got {source_format!r}")
    if sample_ratio is not None:
        docs = (downsample_sentences(doc, sample_ratio, seed, report) for doc in docs)
    write_docbin(docs, output, report, progress_every=progress_every)
    return report


__all__ = [
    "ConversionError",
    "ConversionReport",
    "SOURCE_FORMATS",
    "clinical_english",
    "convert_folder",
    "create_clinical_tokenizer",
    "downsample_sentences",
    "read_ade_corpus",
    "read_bioscope_folder",
    "read_brat_document",
    "read_brat_folder",
    "read_ddi_folder",
    "read_docbin",
    "read_handover_document",
    "read_handover_folder",
    "select_ents",
    "set_line_sentence_starts",
    "split_dev",
    "split_off",
    "write_brat_document",
    "write_docbin",
]
