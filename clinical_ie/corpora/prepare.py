"""One corpus folder in its distributed layout -> ``train`` / ``dev`` / ``test`` DocBins."""

import logging
from pathlib import Path
from typing import Collection, Dict, Iterator, List, Optional

from spacy.tokens import Doc

from ..evaluation.metrics.handover import training_categories
from .ade import read_ade_corpus
from .bioscope import read_bioscope_folder
from .brat import read_brat_folder
from .catalog import SCHEMES, check_dataset_name, scheme_of, source_format_of
from .ddi import read_ddi_folder
from .handover import read_handover_folder
from .layout import UNSPLIT_FORMATS, CorpusLayoutError, check_corpus_folder, find_split_dirs
from .conversion_report import ConversionReport
from .split import split_dev, split_off, write_docbin

logger = logging.getLogger(__name__)


def read_split(
    source_format: str,
    folders: List[Path],
    report: ConversionReport,
    found_in_training: Optional[Collection[str]] = None,
) -> Iterator[Doc]:
    """Every document of the split's folders, in folder then name order.

    ``found_in_training``: handover categories of the training split, accepted in a dev
    or test split besides the CLEF set; None when reading the training split.
    """
    for folder in folders:
        if source_format == "brat":
            yield from read_brat_folder(folder, report)
        elif source_format == "ddi":
            yield from read_ddi_folder(folder, report)
        else:
            yield from read_handover_folder(folder, report, training_categories=found_in_training)


def prepare_corpus(
    dataset: str,
    root: Path,
    output_dir: Path,
    seed: int = 0,
    dev_fraction: float = 0.1,
    strict: bool = False,
    scheme: Optional[str] = None,
    source_format: Optional[str] = None,
    dev_size: Optional[int] = None,
    test_fraction: float = 0.1,
    **reader_options,
) -> Dict[str, ConversionReport]:
    """Convert every split of ``root``; write ``<split>.spacy`` and ``report-<split>.json``.

    Every document's ``doc._.corpus`` is ``dataset`` (a safe name: the corpus the documents
    come from). ``scheme`` (``brat`` or ``handover``) is how they are scored; None: the scheme
    of a known corpus (:data:`~clinical_ie.corpora.catalog.KNOWN_CORPORA`), required for another
    name (ValueError). ``source_format`` is how the files are read (default: the known corpus's,
    else the scheme).

    ``dev`` is the corpus's own development split when it has one (handover
    ``validation/``), otherwise ``dev_size`` training documents (when given) or a
    ``dev_fraction`` share of them, chosen by ``seed``. A test split is required: the workflow
    evaluates on it. The training split is read first: the handover categories found in it
    are accepted in the others. A format distributed without splits (:data:`UNSPLIT_FORMATS`)
    goes to :func:`prepare_unsplit_corpus`.
    """
    scheme = scheme_of([check_dataset_name(dataset)], scheme)
    if scheme is None:
        raise ValueError(f"{dataset!r} is not a corpus this package knows: say its scheme ({' or '.join(SCHEMES)})")
    source_format = source_format_of(dataset, scheme, source_format)
    output_dir = Path(output_dir)
    if source_format in UNSPLIT_FORMATS:
        return prepare_unsplit_corpus(
            dataset, source_format, root, output_dir, seed, dev_size or 25, test_fraction, strict, **reader_options
        )
    splits = find_split_dirs(source_format, root)
    if "test" not in splits:
        raise CorpusLayoutError(f"No test folder in {root}: the evaluate step needs one.")
    reports = {}
    docs_by_split = {}
    found_in_training = None
    for split in ["train"] + [name for name in splits if name != "train"]:
        report = ConversionReport(source_format, strict=strict)
        docs_by_split[split] = list(read_split(source_format, splits[split], report, found_in_training))
        reports[split] = report
        if split == "train":
            found_in_training = training_categories(docs_by_split["train"])
    if "dev" not in docs_by_split:
        train = docs_by_split["train"]
        if dev_size is None:
            docs_by_split["train"], docs_by_split["dev"] = split_dev(train, dev_fraction, seed)
        else:
            docs_by_split["train"], docs_by_split["dev"] = split_off(train, dev_size, seed)
        logger.info("dev: %d of %d training documents (seed %d)", len(docs_by_split["dev"]), len(train), seed)
    _write_splits(dataset, docs_by_split, reports, output_dir)
    return reports


def prepare_unsplit_corpus(
    dataset: str,
    source_format: str,
    root: Path,
    output_dir: Path,
    seed: int = 0,
    dev_size: int = 25,
    test_fraction: float = 0.1,
    strict: bool = False,
    **reader_options,
) -> Dict[str, ConversionReport]:
    """Convert a corpus distributed without splits (ADE, BioScope) into train / dev / test.

    ``test`` is ``round(test_fraction * n)`` documents chosen by ``seed``, ``dev`` then
    ``dev_size`` of the others (seed ``seed + 1``). One report covers the reading
    (``report-all.json``); ``reader_options`` go to the reader (bioscope: ``clinical_texts``,
    ``parts``).
    """
    check_corpus_folder(source_format, root)
    report = ConversionReport(source_format, strict=strict)
    if source_format == "ade":
        docs = list(read_ade_corpus(root, report))
    else:
        docs = list(read_bioscope_folder(root, report, **reader_options))
    rest, test = split_off(docs, round(test_fraction * len(docs)), seed)
    train, dev = split_off(rest, min(dev_size, len(rest)), seed + 1)
    logger.info("%s: %d train, %d dev, %d test documents (seed %d)", dataset, len(train), len(dev), len(test), seed)
    _write_splits(dataset, {"train": train, "dev": dev, "test": test}, {"all": report}, output_dir)
    return {"all": report}


def _write_splits(
    dataset: str, docs_by_split: Dict[str, List[Doc]], reports: Dict[str, ConversionReport], output_dir: Path
) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    for split, docs in docs_by_split.items():
        for doc in docs:
            doc._.corpus = dataset
        write_docbin(docs, output_dir / f"{split}.spacy")
    for name, report in reports.items():
        report.write_json(output_dir / f"report-{name}.json")
