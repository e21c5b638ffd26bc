"""Where a corpus's splits live in a user's data folder (by scheme: ``brat`` or ``handover``), and
what to say when they don't."""

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
SPLITS_BY_SCHEME = {"brat": N2C2_SPLITS, "handover": HANDOVER_SPLITS}

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
}


class CorpusLayoutError(ValueError):
    """A data folder is missing or holds none of the expected split folders."""


def find_split_dirs(scheme: str, root: Path) -> Dict[str, List[Path]]:
    """Map each split present under ``root`` to its folders; ``train`` is required."""
    if scheme not in SPLITS_BY_SCHEME:
        raise CorpusLayoutError(f"Unknown scheme '{scheme}': use one of {sorted(SPLITS_BY_SCHEME)}")
    root = Path(root)
    how_to_get = HOW_TO_GET[scheme].format(root=root)
    if not root.is_dir():
        raise CorpusLayoutError(f"Data folder {root} does not exist. {how_to_get}")
    found = {}
    for split, names in SPLITS_BY_SCHEME[scheme].items():
        dirs = [root / name for name in names if (root / name).is_dir()]
        if split == "train" and dirs and dirs[0].name == "training_20180910":
            dirs = dirs[:1]  # the official archive; split copies hold the same notes
        if dirs:
            found[split] = dirs
    if "train" not in found:
        expected = " or ".join(f"{n}/" for n in SPLITS_BY_SCHEME[scheme]["train"])
        raise CorpusLayoutError(f"No training folder ({expected}) in {root}. {how_to_get}")
    return found
