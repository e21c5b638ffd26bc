"""Peak memory of ``nlp.pipe``: RSS (and GPU memory on a GPU), each measurement in a fresh process."""

from pathlib import Path
from typing import Dict, Sequence

import spacy
import torch

from clinical_ie.annotate.measure import peak_rss_mib

from ..measure import in_fresh_process
from .texts import BenchmarkTexts
from .timing import PathLike, use_device


def pipeline_peak_memory(model: PathLike, texts: Sequence[str], batch_size: int, gpu: bool) -> Dict[str, float]:
    """Load ``model`` and run ``nlp.pipe`` over ``texts``, discarding the docs; run it in a fresh
    process. Returns the RSS high-water mark after loading, the high-water mark of the run alone
    (Linux: the mark is reset after loading, through ``/proc/self/clear_refs``; elsewhere it
    includes loading), and on a GPU PyTorch's peak allocated memory during the run (MiB)."""
    use_device(gpu)
    nlp = spacy.load(model)
    after_load = peak_rss_mib()
    clear_refs = Path("/proc/self/clear_refs")
    if clear_refs.exists():
        clear_refs.write_text("5")  # resets VmHWM to the current RSS
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    result = {"rss_after_load_mib": after_load, "rss_peak_mib": peak_rss_mib()}
    if gpu:
        result["gpu_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def measure_memory(model: PathLike, texts: BenchmarkTexts, batch_size: int, gpu: bool) -> Dict[str, object]:
    """:func:`pipeline_peak_memory` of the corpus, the long note and the short note, each in a
    fresh process, and the long / short ratio of peak RSS."""
    memory = {
        name: in_fresh_process(pipeline_peak_memory, model, note_texts, batch_size, gpu)
        for name, note_texts in (("corpus", texts.corpus), ("long_note", [texts.long_note]), ("short_note", [texts.short_note]))
    }
    memory["long_over_short"] = memory["long_note"]["rss_peak_mib"] / memory["short_note"]["rss_peak_mib"]
    return memory
