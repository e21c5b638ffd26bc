"""Devices and clocks: ``nlp.pipe`` and the bare encoder timed, batch sizes tuned, the CRF's
share of the time, the windows the pipeline feeds its encoder, and the limit's windows."""

import statistics
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Callable, Dict, Iterable, Iterator, List, Sequence, Union

import torch
from spacy.language import Language

from clinical_ie.pipeline.crf_ner import crf

PathLike = Union[str, Path]

LIMIT_WINDOW = 512
"""The limit's windows: at most this many wordpieces, special tokens included."""


def use_device(gpu: bool) -> None:
    """Put thinc (and so spaCy and spacy-transformers) on GPU 0 with PyTorch's allocator, or leave it on the CPU."""
    if gpu:
        from thinc.api import require_gpu, set_gpu_allocator

        set_gpu_allocator("pytorch")
        require_gpu(0)


def synchronize(gpu: bool) -> None:
    """Wait for queued GPU work, so that a clock read after it counts it."""
    if gpu:
        torch.cuda.synchronize()


@dataclass
class Stopwatch:
    """Seconds accumulated by a timer."""

    seconds: float = 0.0


@contextmanager
def crf_decoding_timer(gpu: bool = False) -> Iterator[Stopwatch]:
    """Within the block, every call of :func:`clinical_ie.pipeline.crf_ner.crf.decode_spans` (the CRF
    head's Viterbi and span posteriors) adds its duration to the yielded stopwatch."""
    stopwatch = Stopwatch()
    decode_spans = crf.decode_spans

    def timed_decode_spans(*args, **kwargs):
        synchronize(gpu)
        start = perf_counter()
        try:
            return decode_spans(*args, **kwargs)
        finally:
            stopwatch.seconds += perf_counter() - start

    crf.decode_spans = timed_decode_spans
    try:
        yield stopwatch
    finally:
        crf.decode_spans = decode_spans


def time_pipeline(nlp: Language, texts: Sequence[str], batch_size: int, gpu: bool = False) -> Dict[str, float]:
    """One pass of ``nlp.pipe`` over ``texts``: total seconds and seconds in CRF decoding."""
    with crf_decoding_timer(gpu) as decoding:
        start = perf_counter()
        for _ in nlp.pipe(texts, batch_size=batch_size):
            pass
        synchronize(gpu)
        seconds = perf_counter() - start
    return {"seconds": seconds, "crf_seconds": decoding.seconds}


def tune_batch_size(time_batch_size: Callable[[int], float], candidates: Sequence[int]) -> Dict[str, object]:
    """The candidate with the least ``time_batch_size(candidate)`` seconds, and every trial."""
    trials = {candidate: time_batch_size(candidate) for candidate in candidates}
    return {"batch_size": min(trials, key=trials.get), "trial_seconds": trials}


@contextmanager
def recorded_transformer_inputs(nlp: Language) -> Iterator[List[Dict[str, torch.Tensor]]]:
    """Within the block, every call of the pipeline's Hugging Face model appends its tensor
    keyword arguments (``input_ids``, ``attention_mask``, ...) to the yielded list."""
    inputs: List[Dict[str, torch.Tensor]] = []

    def record(module, args, kwargs):
        inputs.append({name: value.clone() for name, value in kwargs.items() if isinstance(value, torch.Tensor)})

    handle = nlp.get_pipe("transformer").model.transformer.register_forward_pre_hook(record, with_kwargs=True)
    try:
        yield inputs
    finally:
        handle.remove()


def time_forward(model: torch.nn.Module, inputs: Iterable[Dict[str, torch.Tensor]], gpu: bool = False) -> float:
    """Seconds for ``model(**batch)`` over every batch, in eval mode under ``torch.inference_mode``.

    The model's train / eval mode is restored afterwards: thinc's ``PyTorchShim.predict``
    leaves a pipeline's model in train mode (dropout on) between its own calls.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            start = perf_counter()
            for batch in inputs:
                model(**batch)
            synchronize(gpu)
            return perf_counter() - start
    finally:
        model.train(was_training)


def window_summary(inputs: Sequence[Dict[str, torch.Tensor]]) -> Dict[str, int]:
    """Batches, windows, real and padded wordpieces of recorded transformer inputs."""
    return {
        "batches": len(inputs),
        "windows": sum(int(batch["input_ids"].shape[0]) for batch in inputs),
        "wordpieces": sum(int(batch["attention_mask"].sum()) for batch in inputs),
        "padded_wordpieces": sum(batch["input_ids"].numel() for batch in inputs),
    }


def limit_inputs(tokenizer, texts: Sequence[str], batch_wordpieces: int) -> List[Dict[str, torch.Tensor]]:
    """The limit's batches: each text's wordpieces cut once into windows of at most
    :data:`LIMIT_WINDOW` (with the model's special tokens), no overlap; the windows sorted by
    length, longest first, and batched with at most ``batch_wordpieces`` padded wordpieces."""
    body = LIMIT_WINDOW - tokenizer.num_special_tokens_to_add()
    windows = []
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        windows += [tokenizer.build_inputs_with_special_tokens(ids[start : start + body]) for start in range(0, len(ids), body)]
    windows.sort(key=len, reverse=True)
    batches, start = [], 0
    while start < len(windows):
        size = max(1, batch_wordpieces // len(windows[start]))
        batch = windows[start : start + size]
        padded = tokenizer.pad({"input_ids": batch}, return_tensors="pt")
        batches.append({"input_ids": padded["input_ids"], "attention_mask": padded["attention_mask"]})
        start += size
    return batches


def speed_summary(speeds: Sequence[float]) -> Dict[str, object]:
    """Median words per second over repetitions (or training windows), and every one's."""
    return {"words_per_second": statistics.median(speeds), "runs_words_per_second": list(speeds)}
