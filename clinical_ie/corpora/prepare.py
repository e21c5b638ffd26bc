"""One corpus folder in its distributed layout -> ``train`` / ``dev`` / ``test`` DocBins."""

import logging
from pathlib import Path
from typing import Collection, Dict, Iterator, List, Optional

from spacy.tokens import Doc

from ..evaluation.metrics.handover import training_categories
from .brat import read_brat_folder
from .catalog import SCHEMES, check_dataset_name, scheme_of
from .handover import read_handover_folder
from .layout import CorpusLayoutError, find_split_dirs
from .conversion_report import ConversionReport
from .split import split_dev, write_docbin

logger = logging.getLogger(__name__)


def read_split(
    scheme: str,
    folders: List[Path],
    report: ConversionReport,
    found_in_training: Optional[Collection[str]] = None,
) -> Iterator[Doc]:
    """Every document of the split's folders, in folder then name order.

    ``found_in_training``: handover categories of the training split, accepted in a dev
    or test split besides the CLEF set; None when reading the training split.
    """
    for folder in folders:
        if scheme == "brat":
            yield from read_brat_folder(folder, report)
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
) -> Dict[str, ConversionReport]:
    """Convert every split of ``root``; write ``<split>.spacy`` and ``report-<split>.json``.

    Every document's ``doc._.corpus`` is ``dataset`` (a safe name: the corpus the documents
    come from). ``scheme`` (``brat`` or ``handover``) is how the files are read; None: the
    scheme of a known corpus (:data:`~clinical_ie.corpora.catalog.KNOWN_CORPORA`), required
    for another name (ValueError).

    ``dev`` is the corpus's own development split when it has one (handover
    ``validation/``), otherwise a ``dev_fraction`` share of the training documents chosen
    by ``seed``. A test split is required: the workflow evaluates on it. The training
    split is read first: the handover categories found in it are accepted in the others.
    """
    scheme = scheme_of([check_dataset_name(dataset)], scheme)
    if scheme is None:
        raise ValueError(f"{dataset!r} is not a corpus this package knows: say its scheme ({' or '.join(SCHEMES)})")
    splits = find_split_dirs(scheme, root)
    if "test" not in splits:
        raise CorpusLayoutError(f"No test folder in {root}: the evaluate step needs one.")
    output_dir.mkdir(parents=True, exist_ok=True)
    reports = {}
    docs_by_split = {}
    found_in_training = None
    for split in ["train"] + [name for name in splits if name != "train"]:
        report = ConversionReport(scheme, strict=strict)
        docs_by_split[split] = list(read_split(scheme, splits[split], report, found_in_training))
        for doc in docs_by_split[split]:
            doc._.corpus = dataset
        reports[split] = report
        if split == "train":
            found_in_training = training_categories(docs_by_split["train"])
    if "dev" not in docs_by_split:
        docs_by_split["train"], docs_by_split["dev"] = split_dev(docs_by_split["train"], dev_fraction, seed)
        logger.info(
            "dev: %d of %d training documents (seed %d)",
            len(docs_by_split["dev"]), len(docs_by_split["dev"]) + len(docs_by_split["train"]), seed,
        )
    for split, docs in docs_by_split.items():
        write_docbin(docs, output_dir / f"{split}.spacy")
    for split, report in reports.items():
        report.write_json(output_dir / f"report-{split}.json")
    return reports
