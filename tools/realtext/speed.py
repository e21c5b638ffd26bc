"""Words per second of a trained pipeline against its encoder's limit, on real notes by length.

The limit (:func:`tools.benchmark.timing.limit_inputs`): each note's wordpieces cut once into windows of
at most 512, sorted by length and batched, run through the pipeline's own Hugging Face model in
eval mode; nothing else (no tokenizer, alignment, heads or Docs). Ours: ``nlp.pipe`` end to end.
Both on the same notes, repetitions interleaved, medians reported; the batch size of ``nlp.pipe``
is the best of a few tried on the notes first.
"""

import json
import statistics
from pathlib import Path
from typing import Dict, List, Sequence

import spacy
import torch

from clinical_ie.annotate.measure import count_words

from ..benchmark.timing import limit_inputs, time_forward, time_pipeline, tune_batch_size

BATCH_SIZES = (4, 16, 64)
REPETITIONS = 3
LIMIT_BATCH_WORDPIECES = 8192


def read_notes(path: Path, limit: int) -> List[str]:
    """The ``text`` of the first ``limit`` lines of a JSON Lines file."""
    texts = []
    with path.open(encoding="utf8") as lines:
        for line in lines:
            if len(texts) == limit:
                break
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def measure_notes(nlp, texts: Sequence[str]) -> Dict[str, object]:
    words = sum(count_words(doc) for doc in nlp.tokenizer.pipe(texts))
    tuning = tune_batch_size(lambda b: time_pipeline(nlp, texts[:64], b)["seconds"], BATCH_SIZES)
    batch_size = tuning["batch_size"]
    model = nlp.get_pipe("transformer").model
    limit_batches = limit_inputs(model.tokenizer, texts, LIMIT_BATCH_WORDPIECES)
    ours, limit = [], []
    for _ in range(REPETITIONS):
        ours.append(words / time_pipeline(nlp, texts, batch_size)["seconds"])
        limit.append(words / time_forward(model.transformer, limit_batches))
    return {
        "notes": len(texts),
        "words": words,
        "words_per_note": words / len(texts),
        "batch_size": batch_size,
        "ours_words_per_second": statistics.median(ours),
        "limit_words_per_second": statistics.median(limit),
        "ours_to_limit": statistics.median(ours) / statistics.median(limit),
        "runs": {"ours": ours, "limit": limit},
    }


def measure_speed(model: str, notes_files: Sequence[Path], notes_per_file: int) -> Dict[str, object]:
    """:func:`measure_notes` on the first ``notes_per_file`` notes of each file (named by its stem)."""
    nlp = spacy.load(model)
    result = {"torch_threads": torch.get_num_threads()}
    for path in notes_files:
        result[path.stem] = measure_notes(nlp, read_notes(path, notes_per_file))
    return result
