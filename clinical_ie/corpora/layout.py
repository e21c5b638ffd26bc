"""Where a corpus's splits live in a user's data folder (by source format: ``brat``, ``handover``,
``ddi``; ``ade`` and ``bioscope`` come unsplit), and what to say when they don't."""

from pathlib import Path
from typing import Dict, List

# Folder names by split, in order of preference; several matches are read together.
N2C2_SPLITS = {
    "train": ("training_20180910", "train", "track2-training_data_2", "track2-training_data_3"),
    "test": ("gold-standard-test-data", "test"),
}
HANDOVER_SPLITS = {
    "train": ("train", "training", "set1"),
    "dev": ("validation", "dev", "set2"),
    "test": ("test", "set3"),
}
DDI_SPLITS = {
    "train": ("Train", "DDICorpus/Train"),
    "test": ("Test/Test for DrugNER task", "DDICorpus/Test/Test for DrugNER task"),
}
SPLITS_BY_FORMAT = {"brat": N2C2_SPLITS, "handover": HANDOVER_SPLITS, "ddi": DDI_SPLITS}
UNSPLIT_FORMATS = ("ade", "bioscope")
"""Source formats distributed without splits: the folder holds the files themselves."""

HOW_TO_GET = {
    "brat": (
        "A brat corpus is NAME.txt + NAME.ann files in {root}/train/ and {root}/test/. "
        "n2c2 2018 Track 2 needs a data-use agreement: request it at "
        "https://portal.dbmi.hms.harvard.edu/projects/n2c2-nlp/ , unzip "
        "training_20180910.zip and gold-standard-test-data.zip, and put the folders "
        "training_20180910/ and gold-standard-test-data/ (or train/ and test/, each with "
        "NAME.txt + NAME.ann files) in {root}/"
    ),
    "handover": (
        "The CLEF eHealth nursing-handover data (NICTA synthetic nursing handover) needs "
        "registration: get it from https://clefehealth.imag.fr/ (2015 Task 1a / 2016 Task 1) "
        "or CSIRO's data access portal, and put the token files in {root}/train/, "
        "{root}/validation/ and {root}/test/"
    ),
    "ddi": (
        "The DDI corpus 2013 (CC BY-NC 4.0) is DDICorpus-2013.zip of "
        "https://github.com/isegura/DDICorpus : unzip it into {root}/ (DDICorpus/Train/ and "
        "DDICorpus/Test/Test for DrugNER task/)"
    ),
    "ade": (
        "The ADE corpus (ADE-Corpus-V2) is DRUG-AE.rel and DRUG-DOSE.rel, e.g. in ADE-Corpus-V2/ of "
        "https://github.com/trunghlt/AdverseDrugReaction : put them in {root}/"
    ),
    "bioscope": (
        "BioScope is bioscope.zip of https://rgai.inf.u-szeged.hu/node/105 : unzip it into {root}/ "
        "(abstracts.xml, full_papers.xml, clinical_merger/); its clinical words are the 2007 CMC "
        "Medical NLP Challenge files, given with --clinical-text"
    ),
}


class CorpusLayoutError(ValueError):
    """A data folder is missing or holds none of the expected split folders."""


def check_corpus_folder(source_format: str, root: Path) -> None:
    """Raise :class:`CorpusLayoutError`, saying how to get the corpus, when ``root`` is no folder."""
    if not Path(root).is_dir():
        raise CorpusLayoutError(f"Data folder {root} does not exist. {HOW_TO_GET[source_format].format(root=root)}")


def find_split_dirs(source_format: str, root: Path) -> Dict[str, List[Path]]:
    """Map each split present under ``root`` to its folders; ``train`` is required."""
    if source_format not in SPLITS_BY_FORMAT:
        raise CorpusLayoutError(f"Unknown split layout '{source_format}': use one of {sorted(SPLITS_BY_FORMAT)}")
    root = Path(root)
    how_to_get = HOW_TO_GET[source_format].format(root=root)
    check_corpus_folder(source_format, root)
    found = {}
    for split, names in SPLITS_BY_FORMAT[source_format].items():
        dirs = [root / name for name in names if (root / name).is_dir()]
        if split == "train" and dirs and dirs[0].name == "training_20180910":
            dirs = dirs[:1]  # the official archive; split copies hold the same notes
        if dirs:
            found[split] = dirs
    if "train" not in found:
        expected = " or ".join(f"{n}/" for n in SPLITS_BY_FORMAT[source_format]["train"])
        raise CorpusLayoutError(f"No training folder ({expected}) in {root}. {how_to_get}")
    return found
