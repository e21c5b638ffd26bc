"""Speed, memory and accuracy of a trained pipeline against the encoder's limit and its peers.

Everything runs on one machine, with one base transformer and one set of texts:

- **ours**: the trained pipeline through ``nlp.pipe`` on raw texts (spaCy tokenization
  included), with the best of a few ``batch_size`` values; **ours, int8**: the same pipeline
  loaded with ``quantize = true`` (its encoder's linear layers dynamically quantized);
- **the limit**: the least work any system on this encoder can do: the bare Hugging Face model
  over each note cut once into windows of at most 512 wordpieces with no overlap, the windows
  sorted by length and batched (at most ``limit_batch_wordpieces`` padded wordpieces a batch),
  under ``torch.inference_mode``; tokenization is not timed;
- **replay of our windows**: the same bare model replaying exactly the wordpiece batches the
  pipeline fed it (recorded with a forward pre-hook): what our own windows cost the encoder;
- **spaCy's stock pipeline**: the quickstart's transformer + ``ner`` (``spacy init config
  --pipeline ner --gpu``: strided windows of 128 tokens, stride 96, its default tokenizer and
  batching) on the same base transformer, initialized with our labels (the transition-based
  parser's speed does not depend on its weights), timed through ``nlp.pipe`` likewise;
- **the HF pipeline**: ``AutoModelForTokenClassification`` from the *pretrained* base, fine-tuned with
  the Hugging Face ``Trainer`` on the same training documents (BIO labels from ``doc.ents`` on
  the first wordpiece of each spaCy token) for the same number of optimizer steps, words per
  batch, learning rates, warm-up, weight decay and clipping as our training config, then run
  through ``pipeline("token-classification", aggregation_strategy="simple", stride=...)`` so
  that it reads every note whole;
- **training throughput** of ours (spaCy's training loop on our config, from the pretrained
  base) and of the peer's ``Trainer`` run; **CRF decoding share** of our inference time; **peak
  memory** (RSS, and GPU memory on a GPU) of ``nlp.pipe`` in a fresh process per measurement.

Words are spaCy tokens that are not whitespace, counted with the pipeline's tokenizer.
Inference repetitions are interleaved (ours, int8, stock, HF pipeline, limit, replay, ours, ...)
so that a change in machine load hits all alike; every speed is the median over repetitions. Training
speeds are steady-state: the first optimizer step is left out, the following steps are cut
into ``repetitions`` consecutive windows, and the median window is reported.
"""

import importlib.metadata
import logging
import os
import platform
import statistics
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from time import perf_counter
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Union

import spacy
import torch
import typer
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from clinical_ie.annotate.measure import count_words, peak_rss_mib
from clinical_ie.evaluation.evaluate import model_source, predict_docs, read_docs
from clinical_ie.evaluation.metrics import gold_entity_spans, predicted_entity_spans, score_spans
from clinical_ie.evaluation.metrics.spans import EntitySpan
from clinical_ie.pipeline.crf_ner import crf
from clinical_ie.pipeline.transformer import QUANTIZE_ON_LOAD, resolve_transformer

from .measure import in_fresh_process
from .reports import write_report

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]

TARGETS = {
    "ours_to_limit": (">=", 0.90),
    "ours_to_hf_pipeline": (">=", 1.5),
    "quantized_to_ours": (">=", 1.6),
    "quantized_f1_points_lost": ("<=", 0.5),
    "padding_share": ("<", 0.05),
    "crf_share": ("<=", 0.03),
    "memory_long_over_short": ("<=", 1.5),
    "training_ours_to_hf_trainer": (">=", 1.0),
    "f1_ours_minus_peer": (">=", 0.0),
}
"""What issue 18 asks: (comparison, bound) per measure."""

INFERENCE_SYSTEMS = ("ours", "quantized", "spacy_stock", "hf_pipeline", "limit", "replay")

LIMIT_WINDOW = 512
"""The limit's windows: at most this many wordpieces, special tokens included."""


# --- texts -------------------------------------------------------------------------------


def notes_to_words(nlp: Language, notes: Sequence[str], min_words: int) -> List[str]:
    """``notes`` repeated in order until they hold at least ``min_words`` words."""
    words = {note: count_words(nlp.make_doc(note)) for note in notes}
    if not sum(words.values()):
        raise ValueError("The notes contain no words")
    texts, total = [], 0
    for note in cycle(notes):
        if total >= min_words:
            return texts
        texts.append(note)
        total += words[note]


@dataclass
class BenchmarkTexts:
    """The texts measured: ``corpus`` (many notes), one ``long_note`` and one ``short_note``."""

    corpus: List[str]
    long_note: str
    short_note: str

    def word_counts(self, nlp: Language) -> Dict[str, int]:
        return {
            "corpus_documents": len(self.corpus),
            "corpus_words": sum(count_words(doc) for doc in nlp.tokenizer.pipe(self.corpus)),
            "long_note_words": count_words(nlp.make_doc(self.long_note)),
            "short_note_words": count_words(nlp.make_doc(self.short_note)),
        }


def benchmark_texts(
    nlp: Language, notes: Sequence[str], min_words: int, long_note_words: int, short_note_words: int
) -> BenchmarkTexts:
    """The notes repeated to ``min_words`` words, and two notes made of consecutive notes
    (joined by a blank line) of at least ``long_note_words`` and ``short_note_words`` words."""
    return BenchmarkTexts(
        corpus=notes_to_words(nlp, notes, min_words),
        long_note="\n\n".join(notes_to_words(nlp, notes, long_note_words)),
        short_note="\n\n".join(notes_to_words(nlp, notes, short_note_words)),
    )


# --- devices and processes ---------------------------------------------------------------


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


# --- ours and the limit --------------------------------------------------------------------


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


def stock_spacy_pipeline(base: PathLike, examples: Sequence) -> Language:
    """spaCy's quickstart transformer + ``ner`` (``init config --pipeline ner --gpu``) on ``base``,
    initialized with the labels of ``examples``."""
    from spacy.cli.init_config import init_config

    config = init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=True, pretraining=False, silent=True)
    config["components"]["transformer"]["model"]["name"] = str(base)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    nlp.initialize(lambda: examples)
    return nlp


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


# --- training ------------------------------------------------------------------------------


def load_training_config(model: PathLike, train_path: PathLike):
    """The pipeline's saved config, reading training (and dev) documents from ``train_path``."""
    path = str(train_path)
    return spacy.util.load_config(Path(model) / "config.cfg", overrides={"paths.train": path, "paths.dev": path})


def count_training_steps(nlp: Language, model: PathLike, train_path: PathLike) -> int:
    """Optimizer steps that ``spacy train`` makes with the pipeline's config on ``train_path``:
    ``max_steps`` or, when that is 0, the batches of ``max_epochs`` shuffled epochs (shuffled
    with the config's seed; the count can differ by a step or so from a real run, whose random
    state also feeds dropout)."""
    from spacy.training.loop import create_train_batches
    from spacy.util import registry, resolve_dot_names
    from thinc.api import fix_random_seed

    config = load_training_config(model, train_path).interpolate()
    training = config["training"]
    if training["max_epochs"] < 1 and not training["max_steps"]:
        raise ValueError("The config trains without an epoch or step limit: pass the number of steps")
    fix_random_seed(training["seed"])
    (corpus,) = resolve_dot_names(config, [training["train_corpus"]])
    batcher = registry.resolve({"batcher": training["batcher"]})["batcher"]
    steps = 0
    for _ in create_train_batches(nlp, corpus, batcher, training["max_epochs"]):
        steps += 1
        if steps == training["max_steps"]:
            break
    return steps


def windowed_throughput(step_ends: Sequence[float], step_words: Sequence[int], repetitions: int) -> List[float]:
    """Words per second in ``repetitions`` consecutive windows of optimizer steps, leaving out
    the first step. ``step_ends[i]``: clock when step ``i`` ended; ``step_words[i]``: its words."""
    n_steps = len(step_ends)
    if n_steps < repetitions + 1:
        raise ValueError(f"{n_steps} steps cannot give {repetitions} windows after the first step")
    bounds = [1 + (n_steps - 1) * i // repetitions for i in range(repetitions + 1)]
    return [
        sum(step_words[first:last]) / (step_ends[last - 1] - step_ends[first - 1])
        for first, last in zip(bounds, bounds[1:])
    ]


def time_our_training(model: PathLike, train_path: PathLike, n_steps: int, repetitions: int, gpu: bool) -> Dict[str, object]:
    """Train our pipeline's config from its pretrained base with spaCy's training loop for
    ``1 + n_steps`` steps (no evaluation, nothing saved); run it in a fresh process. Returns the
    steady-state words per second of each window (:func:`windowed_throughput`)."""
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import create_train_batches, train_while_improving
    from spacy.util import registry, resolve_dot_names

    use_device(gpu)
    config = load_training_config(model, train_path)
    nlp = init_nlp(config, use_gpu=0 if gpu else -1)
    config = config.interpolate()
    settings = config["training"]
    training = registry.resolve({name: settings[name] for name in ("optimizer", "batcher", "before_update")})
    (corpus,) = resolve_dot_names(config, [settings["train_corpus"]])
    steps = train_while_improving(
        nlp,
        training["optimizer"],
        create_train_batches(nlp, corpus, training["batcher"], max_epochs=0),
        evaluate=lambda: (0.0, {}),
        dropout=settings["dropout"],
        eval_frequency=n_steps + 2,
        accumulate_gradient=settings["accumulate_gradient"],
        patience=0,
        max_steps=0,
        exclude=settings["frozen_components"],
        annotating_components=settings["annotating_components"],
        before_update=training["before_update"],
    )
    step_ends, step_words = [], []
    for batch, _, _ in steps:
        synchronize(gpu)
        step_ends.append(perf_counter())
        step_words.append(sum(count_words(eg.reference) for eg in batch))
        if len(step_ends) == 1 + n_steps:
            break
    return {"steps": len(step_ends), "window_words_per_second": windowed_throughput(step_ends, step_words, repetitions)}


# --- the peer ------------------------------------------------------------------------------


def bio_label_names(labels: Sequence[str]) -> List[str]:
    """Tag names in the CRF's tag order: ``O``, then ``B-X``, ``I-X`` per label."""
    names = ["O"] * crf.n_tags(len(labels))
    for index, label in enumerate(labels):
        names[crf.begin_tag(index)] = f"B-{label}"
        names[crf.inside_tag(index)] = f"I-{label}"
    return names


def load_peer_tokenizer(base: PathLike):
    """The base model's fast tokenizer, its ``model_max_length`` capped at the model's position embeddings."""
    from transformers import AutoConfig, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base), use_fast=True)
    max_positions = getattr(AutoConfig.from_pretrained(str(base)), "max_position_embeddings", 512)
    tokenizer.model_max_length = min(tokenizer.model_max_length, max_positions)
    return tokenizer


def peer_training_examples(docs: Sequence[Doc], labels: Sequence[str], tokenizer, window: int) -> List[Dict[str, object]]:
    """Token-classification examples: each doc cut into consecutive windows of ``window`` spaCy
    tokens. Each word (non-space token) gives its BIO tag from ``doc.ents`` to the first wordpiece
    that overlaps it and no earlier word; every other wordpiece (later pieces, special tokens)
    is -100. ``n_words`` is the window's word count."""
    label_index = {label: i for i, label in enumerate(labels)}
    examples = []
    for doc in docs:
        spans = [(ent.start, ent.end, label_index[ent.label_]) for ent in doc.ents if ent.label_ in label_index]
        tags = crf.tag_indices(len(doc), spans)
        for start in range(0, len(doc), window):
            span = doc[start : start + window]
            words = [token for token in span if not token.is_space]
            if not words:
                continue
            word_at_char = [-1] * len(span.text)
            for token in words:
                first = token.idx - span.start_char
                word_at_char[first : first + len(token)] = [token.i] * len(token)
            encoding = tokenizer(span.text, truncation=True, return_offsets_mapping=True)
            tagged_labels, tagged_words = [], set()
            for piece_start, piece_end in encoding.pop("offset_mapping"):
                new_words = [i for i in word_at_char[piece_start:piece_end] if i >= 0 and i not in tagged_words]
                tagged_labels.append(int(tags[new_words[0]]) if new_words else -100)
                tagged_words.update(new_words[:1])
            examples.append({**encoding, "labels": tagged_labels, "n_words": len(words)})
    return examples


@dataclass
class TrainingRecipe:
    """Our training settings, as the peer's ``Trainer`` uses them."""

    steps: int
    words_per_batch: int
    learn_rate: float
    warmup_steps: int
    head_learn_rate_scale: float
    weight_decay: float
    grad_clip: float
    beta1: float
    beta2: float
    eps: float
    seed: int

    @classmethod
    def from_config(cls, config, steps: int) -> "TrainingRecipe":
        """Read from a pipeline config; values the config does not state take thinc / spaCy defaults."""
        training = config["training"]
        optimizer = training["optimizer"]
        learn_rate = optimizer.get("learn_rate", 0.001)
        batch_size = training["batcher"].get("size", 1000)
        return cls(
            steps=steps,
            words_per_batch=batch_size if isinstance(batch_size, int) else 1000,
            learn_rate=learn_rate.get("initial_rate", 0.001) if isinstance(learn_rate, dict) else learn_rate,
            warmup_steps=learn_rate.get("warmup_steps", 0) if isinstance(learn_rate, dict) else 0,
            head_learn_rate_scale=config["components"]["ner"].get("learn_rate_scale", 1.0),
            weight_decay=optimizer.get("L2", 0.0),
            grad_clip=optimizer.get("grad_clip", 1.0),
            beta1=optimizer.get("beta1", 0.9),
            beta2=optimizer.get("beta2", 0.999),
            eps=optimizer.get("eps", 1e-8),
            seed=training["seed"] or 0,
        )


def train_peer(
    base: PathLike,
    examples: List[Dict[str, object]],
    label_names: Sequence[str],
    recipe: TrainingRecipe,
    output_dir: PathLike,
    repetitions: int,
    gpu: bool,
) -> Dict[str, object]:
    """Fine-tune ``AutoModelForTokenClassification`` from ``base`` with the ``Trainer`` for
    ``recipe.steps`` steps and save it with its tokenizer to ``output_dir``; run it in a fresh
    process. Batches hold about ``recipe.words_per_batch`` words; AdamW with decoupled weight
    decay, constant learning rate after linear warm-up, the classifier at
    ``head_learn_rate_scale`` times the rate (as our CRF head). Returns the batch size and the
    steady-state words per second of each window (:func:`windowed_throughput`)."""
    from transformers import (
        AutoModelForTokenClassification,
        DataCollatorForTokenClassification,
        Trainer,
        TrainerCallback,
        TrainingArguments,
        get_constant_schedule_with_warmup,
        set_seed,
    )

    class StepClock(TrainerCallback):
        def __init__(self):
            self.step_ends: List[float] = []

        def on_step_end(self, args, state, control, **kwargs):
            synchronize(gpu)
            self.step_ends.append(perf_counter())

    batch_words: List[int] = []
    pad = DataCollatorForTokenClassification(load_peer_tokenizer(base))

    def collate(features):
        batch_words.append(sum(feature["n_words"] for feature in features))
        return pad([{k: v for k, v in feature.items() if k != "n_words"} for feature in features])

    set_seed(recipe.seed)
    model = AutoModelForTokenClassification.from_pretrained(
        str(base),
        num_labels=len(label_names),
        id2label=dict(enumerate(label_names)),
        label2id={name: i for i, name in enumerate(label_names)},
    )
    head = [p for name, p in model.named_parameters() if name.startswith("classifier.")]
    body = [p for name, p in model.named_parameters() if not name.startswith("classifier.")]
    optimizer = torch.optim.AdamW(
        [{"params": body}, {"params": head, "lr": recipe.learn_rate * recipe.head_learn_rate_scale}],
        lr=recipe.learn_rate,
        betas=(recipe.beta1, recipe.beta2),
        eps=recipe.eps,
        weight_decay=recipe.weight_decay,
    )
    mean_words = sum(example["n_words"] for example in examples) / len(examples)
    batch_size = max(1, round(recipe.words_per_batch / mean_words))
    args = TrainingArguments(
        output_dir=str(output_dir),
        max_steps=recipe.steps,
        per_device_train_batch_size=batch_size,
        max_grad_norm=recipe.grad_clip,
        seed=recipe.seed,
        data_seed=recipe.seed,
        logging_strategy="no",
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=not gpu,
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )
    clock = StepClock()
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=examples,
        data_collator=collate,
        optimizers=(optimizer, get_constant_schedule_with_warmup(optimizer, recipe.warmup_steps)),
        callbacks=[clock],
    )
    trainer.train()
    trainer.save_model(str(output_dir))
    pad.tokenizer.save_pretrained(str(output_dir))
    return {
        "batch_size": batch_size,
        "window_words_per_second": windowed_throughput(clock.step_ends, batch_words[: len(clock.step_ends)], repetitions),
    }


def peer_pipeline(model_dir: PathLike, gpu: bool):
    """The fine-tuned peer as ``pipeline("token-classification", aggregation_strategy="simple")``."""
    from transformers import pipeline

    return pipeline(
        "token-classification", model=str(model_dir), aggregation_strategy="simple", device=0 if gpu else -1
    )


def peer_stride(tokenizer) -> int:
    """Overlap of the peer's windows: a quarter of its window (``model_max_length``)."""
    return tokenizer.model_max_length // 4


def run_peer(classifier, texts: Sequence[str], batch_size: int) -> List[List[dict]]:
    """Entities per text; windows of ``model_max_length`` wordpieces overlap by :func:`peer_stride`
    so that every part of a long note is read."""
    return classifier(list(texts), batch_size=batch_size, stride=peer_stride(classifier.tokenizer))


def peer_entity_spans(entities: Sequence[dict]) -> List[EntitySpan]:
    """The peer's aggregated entities as :class:`EntitySpan`, sorted as our predictions are."""
    spans = [EntitySpan(entity["entity_group"], int(entity["start"]), int(entity["end"])) for entity in entities]
    return sorted(spans, key=lambda s: (s.start, s.end, s.label))


def time_peer(classifier, texts: Sequence[str], batch_size: int, gpu: bool = False) -> float:
    """Seconds for the peer pipeline over ``texts``."""
    start = perf_counter()
    run_peer(classifier, texts, batch_size)
    synchronize(gpu)
    return perf_counter() - start


def strict_micro(scores: Dict[str, object]) -> Dict[str, float]:
    """Strict micro precision, recall and F1 of :func:`~clinical_ie.evaluation.metrics.score_spans` output."""
    micro = scores["strict"]["micro"]
    return {"precision": micro["precision"], "recall": micro["recall"], "f1": micro["f1"]}


# --- the machine ---------------------------------------------------------------------------


def machine_info(gpu: bool) -> Dict[str, object]:
    """CPU model, cores (logical, and usable by this process), torch threads, GPU, and versions."""
    import transformers

    cpu_model = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu_model,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if gpu else None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "spacy": spacy.__version__,
            "spacy-transformers": importlib.metadata.version("spacy-transformers"),
        },
    }


# --- the whole benchmark -------------------------------------------------------------------


@dataclass
class BenchmarkSettings:
    """What :func:`run_benchmark` measures and how often."""

    repetitions: int = 3
    min_words: int = 50_000
    long_note_words: int = 10_000
    short_note_words: int = 1_000
    batch_sizes: Sequence[int] = (4, 16, 64)
    tuning_words: int = 10_000
    peer_steps: Optional[int] = None
    training_steps: int = 15
    limit_batch_wordpieces: int = 8192
    gpu: bool = False
    multitask_model: Optional[PathLike] = None


def speed_summary(speeds: Sequence[float]) -> Dict[str, object]:
    """Median words per second over repetitions (or training windows), and every one's."""
    return {"words_per_second": statistics.median(speeds), "runs_words_per_second": list(speeds)}


def train_peer_classifier(nlp: Language, model: PathLike, train_path: PathLike, settings: BenchmarkSettings):
    """Fine-tune the peer in a fresh process (its memory does not count against ours) and load
    it as a pipeline. Returns the pipeline and the training measurements."""
    config = load_training_config(model, train_path).interpolate()
    steps = settings.peer_steps or count_training_steps(nlp, model, train_path)
    recipe = TrainingRecipe.from_config(config, steps)
    base = resolve_transformer(config["components"]["transformer"]["model"]["name"])
    labels = list(nlp.get_pipe("ner").labels)
    window = config["components"]["transformer"]["model"]["get_spans"].get("window", 128)
    examples = peer_training_examples(read_docs(train_path, nlp.vocab), labels, load_peer_tokenizer(base), window)
    with tempfile.TemporaryDirectory() as peer_dir:
        training = in_fresh_process(
            train_peer, base, examples, bio_label_names(labels), recipe, peer_dir, settings.repetitions, settings.gpu
        )
        classifier = peer_pipeline(peer_dir, settings.gpu)
    return classifier, {"base_transformer": base, "recipe": recipe.__dict__, **training}


def measure_accuracy(nlp: Language, quantized: Language, classifier, test_docs: Sequence[Doc]) -> Dict[str, object]:
    """Strict span micro P/R/F1 of ours and of ours int8 (on the gold tokens, as ``evaluate``
    runs them) and of the peer (on the raw texts) against the same gold entities; for ours and
    int8 also the lenient scores."""
    gold_spans = [gold_entity_spans(doc) for doc in test_docs]
    scores = {
        name: score_spans(gold_spans, [predicted_entity_spans(doc) for doc in predict_docs(pipeline, test_docs)])
        for name, pipeline in (("ours", nlp), ("quantized", quantized))
    }
    peer_outputs = run_peer(classifier, [doc.text for doc in test_docs], batch_size=8)
    peer = score_spans(gold_spans, [peer_entity_spans(entities) for entities in peer_outputs])
    return {
        "test_documents": len(test_docs),
        "ours": strict_micro(scores["ours"]),
        "quantized": strict_micro(scores["quantized"]),
        "peer": strict_micro(peer),
        "lenient_f1": {name: scores[name]["lenient"]["micro"]["f1"] for name in scores},
    }


def measure_inference(
    systems: Dict[str, Language], classifier, texts: BenchmarkTexts, words: int, settings: BenchmarkSettings
) -> Dict[str, object]:
    """Words per second over ``texts.corpus`` (``words`` words) of each spaCy pipeline of
    ``systems`` (``ours``, ``quantized``, ``spacy_stock``), the HF pipeline, the limit and the
    replay of our windows (batch sizes tuned on the first ``tuning_words`` words after a warm-up;
    repetitions interleaved); our padding and the share of our time in CRF decoding."""
    gpu = settings.gpu
    nlp = systems["ours"]
    tuning_texts = notes_to_words(nlp, texts.corpus, min(settings.tuning_words, settings.min_words))
    tuning = {}
    for name, pipeline in systems.items():
        time_pipeline(pipeline, tuning_texts[:4], batch_size=4, gpu=gpu)
        tuning[name] = tune_batch_size(lambda b: time_pipeline(pipeline, tuning_texts, b, gpu)["seconds"], settings.batch_sizes)
    time_peer(classifier, tuning_texts[:4], batch_size=4, gpu=gpu)
    tuning["hf_pipeline"] = tune_batch_size(lambda b: time_peer(classifier, tuning_texts, b, gpu), settings.batch_sizes)
    with recorded_transformer_inputs(nlp) as windows:
        time_pipeline(nlp, texts.corpus, tuning["ours"]["batch_size"], gpu)
    hf_model = nlp.get_pipe("transformer").model.transformer
    limit_batches = limit_inputs(nlp.get_pipe("transformer").model.tokenizer, texts.corpus, settings.limit_batch_wordpieces)
    seconds: Dict[str, List[float]] = {name: [] for name in (*systems, "hf_pipeline", "limit", "replay")}
    crf_shares = []
    for _ in range(settings.repetitions):
        for name, pipeline in systems.items():
            run = time_pipeline(pipeline, texts.corpus, tuning[name]["batch_size"], gpu)
            seconds[name].append(run["seconds"])
            if name == "ours":
                crf_shares.append(run["crf_seconds"] / run["seconds"])
        seconds["hf_pipeline"].append(time_peer(classifier, texts.corpus, tuning["hf_pipeline"]["batch_size"], gpu))
        seconds["limit"].append(time_forward(hf_model, limit_batches, gpu))
        seconds["replay"].append(time_forward(hf_model, windows, gpu))
    results = {name: {"batch_size": tuning[name]["batch_size"], "tuning": tuning[name]} for name in tuning}
    for name, runs in seconds.items():
        results.setdefault(name, {}).update(speed_summary([words / s for s in runs]))
    results["limit"].update(window_summary(limit_batches), window_wordpieces=LIMIT_WINDOW,
                            batch_wordpieces=settings.limit_batch_wordpieces)
    results["replay"].update(window_summary(windows))
    results["hf_pipeline"].update(window_wordpieces=classifier.tokenizer.model_max_length, stride=peer_stride(classifier.tokenizer))
    results["crf_share"] = {"median": statistics.median(crf_shares), "runs": crf_shares}
    return results


def measure_memory(model: PathLike, texts: BenchmarkTexts, batch_size: int, gpu: bool) -> Dict[str, object]:
    """:func:`pipeline_peak_memory` of the corpus, the long note and the short note, each in a
    fresh process, and the long / short ratio of peak RSS."""
    memory = {
        name: in_fresh_process(pipeline_peak_memory, model, note_texts, batch_size, gpu)
        for name, note_texts in (("corpus", texts.corpus), ("long_note", [texts.long_note]), ("short_note", [texts.short_note]))
    }
    memory["long_over_short"] = memory["long_note"]["rss_peak_mib"] / memory["short_note"]["rss_peak_mib"]
    return memory


def summarize(
    model: PathLike,
    settings: BenchmarkSettings,
    texts: Dict[str, int],
    inference: Dict[str, object],
    memory: Dict[str, object],
    accuracy: Dict[str, object],
    peer_training: Dict[str, object],
    our_training: Dict[str, object],
) -> Dict[str, object]:
    """The results of every stage with the machine, the ratios and the targets, as a JSON-able dict."""
    training = {
        "ours": {"steps_timed": our_training["steps"], **speed_summary(our_training["window_words_per_second"])},
        "hf_trainer": {
            "steps": peer_training["recipe"]["steps"],
            "batch_size": peer_training["batch_size"],
            **speed_summary(peer_training["window_words_per_second"]),
        },
        "recipe": peer_training["recipe"],
    }
    speed = {system: inference[system]["words_per_second"] for system in INFERENCE_SYSTEMS}
    replay = inference["replay"]
    ratios = {
        "ours_to_limit": speed["ours"] / speed["limit"],
        "ours_to_replay": speed["ours"] / speed["replay"],
        "ours_to_hf_pipeline": speed["ours"] / speed["hf_pipeline"],
        "ours_to_spacy_stock": speed["ours"] / speed["spacy_stock"],
        "quantized_to_ours": speed["quantized"] / speed["ours"],
        "training_ours_to_hf_trainer": training["ours"]["words_per_second"] / training["hf_trainer"]["words_per_second"],
    }
    measured = {
        "ours_to_limit": ratios["ours_to_limit"],
        "ours_to_hf_pipeline": ratios["ours_to_hf_pipeline"],
        "quantized_to_ours": ratios["quantized_to_ours"],
        "quantized_f1_points_lost": 100 * (accuracy["ours"]["f1"] - accuracy["quantized"]["f1"]),
        "padding_share": 1 - replay["wordpieces"] / replay["padded_wordpieces"],
        "crf_share": inference["crf_share"]["median"],
        "memory_long_over_short": memory["long_over_short"],
        "training_ours_to_hf_trainer": ratios["training_ours_to_hf_trainer"],
        "f1_ours_minus_peer": accuracy["ours"]["f1"] - accuracy["peer"]["f1"],
    }
    return {
        "model": model_source(model),
        "base_transformer": model_source(peer_training["base_transformer"]),
        "machine": machine_info(settings.gpu),
        "settings": {
            **settings.__dict__,
            "batch_sizes": list(settings.batch_sizes),
            "peer_steps": training["hf_trainer"]["steps"],
            "multitask_model": None if settings.multitask_model is None else model_source(settings.multitask_model),
        },
        "texts": texts,
        "inference": {system: inference[system] for system in INFERENCE_SYSTEMS},
        "crf_share": inference["crf_share"],
        "memory": memory,
        "accuracy": accuracy,
        "training": training,
        "ratios": ratios,
        "targets": {
            name: {"value": value, "target": f"{TARGETS[name][0]} {TARGETS[name][1]}", "met": target_met(name, value)}
            for name, value in measured.items()
        },
    }


def run_benchmark(model: PathLike, train_path: PathLike, test_path: PathLike, settings: BenchmarkSettings) -> Dict[str, object]:
    """Every measurement of the module docstring; returns the results as a JSON-able dict."""
    use_device(settings.gpu)
    torch.manual_seed(0)
    nlp = spacy.load(model)
    quantized = spacy.load(model, config=QUANTIZE_ON_LOAD)
    test_docs = read_docs(test_path, nlp.vocab)
    notes = [doc.text for doc in test_docs]
    texts = benchmark_texts(nlp, notes, settings.min_words, settings.long_note_words, settings.short_note_words)
    word_counts = texts.word_counts(nlp)
    logger.info("Training the HF peer")
    classifier, peer_training = train_peer_classifier(nlp, model, train_path, settings)
    logger.info("Scoring ours, ours int8 and the peer on %d test documents", len(test_docs))
    accuracy = measure_accuracy(nlp, quantized, classifier, test_docs)
    train_docs = read_docs(train_path, nlp.vocab)
    stock = stock_spacy_pipeline(peer_training["base_transformer"], [Example(doc, doc) for doc in train_docs[:20]])
    logger.info("Timing inference: %d repetitions over %d notes", settings.repetitions, len(texts.corpus))
    systems = {"ours": nlp, "quantized": quantized, "spacy_stock": stock}
    inference = measure_inference(systems, classifier, texts, word_counts["corpus_words"], settings)
    logger.info("Measuring peak memory")
    memory = measure_memory(model, texts, inference["ours"]["batch_size"], settings.gpu)
    logger.info("Timing our training")
    our_training = in_fresh_process(
        time_our_training, model, train_path, settings.training_steps, settings.repetitions, settings.gpu
    )
    results = summarize(model, settings, word_counts, inference, memory, accuracy, peer_training, our_training)
    if settings.multitask_model is not None:
        logger.info("Timing the multi-task model with every head and with one")
        results["heads"] = measure_heads(
            settings.multitask_model, texts.corpus, inference["ours"]["batch_size"], settings.repetitions, settings.gpu
        )
    return results


def measure_heads(model: PathLike, texts: Sequence[str], batch_size: int, repetitions: int, gpu: bool) -> Dict[str, object]:
    """Words per second of a multi-task pipeline with every head, and with only the
    transformer and its first head (the encoder runs once either way)."""
    nlp = spacy.load(model)
    heads = [name for name in nlp.pipe_names if name != "transformer"]
    words = sum(count_words(doc) for doc in nlp.tokenizer.pipe(texts))
    time_pipeline(nlp, texts[:4], batch_size=4, gpu=gpu)
    speeds = {}
    for enabled in (heads, heads[:1]):
        with nlp.select_pipes(enable=["transformer", *enabled]):
            runs = [words / time_pipeline(nlp, texts, batch_size, gpu)["seconds"] for _ in range(repetitions)]
        speeds[" + ".join(enabled)] = speed_summary(runs)
    return {"model": model_source(model), "words": words, "words_per_second": speeds}


def target_met(name: str, value: float) -> bool:
    """Whether ``value`` meets the target ``TARGETS[name]``."""
    comparison, bound = TARGETS[name]
    return {">=": value >= bound, "<=": value <= bound, "<": value < bound}[comparison]


def results_markdown(results: Dict[str, object]) -> str:
    """The results as Markdown: speeds and ratios, targets, accuracy, memory, training, machine."""
    inference, ratios, machine = results["inference"], results["ratios"], results["machine"]
    memory, training, accuracy = results["memory"], results["training"], results["accuracy"]
    texts, settings = results["texts"], results["settings"]
    device = machine["gpu"] or f"CPU: {machine['cpu']}"
    lines = [
        "# Benchmark",
        "",
        f"Model `{results['model']}`, base transformer `{results['base_transformer']}`, on {device}.",
        f"Texts: {texts['corpus_words']:,} words in {texts['corpus_documents']} notes; long note "
        f"{texts['long_note_words']:,} words; short note {texts['short_note_words']:,} words. "
        f"Median of {settings['repetitions']} repetitions, interleaved.",
        "",
        "## Inference",
        "",
        "| system | words/s | ours / system | setting |",
        "| --- | ---: | ---: | --- |",
        f"| ours: `nlp.pipe` | {inference['ours']['words_per_second']:,.0f} | 1.00 | batch_size {inference['ours']['batch_size']} |",
        f"| ours, int8 (`quantize = true`) | {inference['quantized']['words_per_second']:,.0f} | "
        f"{1 / ratios['quantized_to_ours']:.2f} | batch_size {inference['quantized']['batch_size']} |",
        f"| limit: bare encoder, each note cut once into windows of <= {inference['limit']['window_wordpieces']} wordpieces, "
        f"sorted by length | {inference['limit']['words_per_second']:,.0f} | {ratios['ours_to_limit']:.2f} | "
        f"{inference['limit']['windows']} windows, {inference['limit']['batches']} batches |",
        f"| replay of our windows: bare encoder on the batches ours fed it | {inference['replay']['words_per_second']:,.0f} | "
        f"{ratios['ours_to_replay']:.2f} | {inference['replay']['windows']} windows, {inference['replay']['batches']} batches, "
        f"{1 - inference['replay']['wordpieces'] / inference['replay']['padded_wordpieces']:.1%} padding |",
        f"| spaCy's stock quickstart transformer + ner | {inference['spacy_stock']['words_per_second']:,.0f} | "
        f"{ratios['ours_to_spacy_stock']:.2f} | batch_size {inference['spacy_stock']['batch_size']} |",
        f"| HF `pipeline`, aggregation simple | {inference['hf_pipeline']['words_per_second']:,.0f} | "
        f"{ratios['ours_to_hf_pipeline']:.2f} | batch_size {inference['hf_pipeline']['batch_size']}, "
        f"{inference['hf_pipeline']['window_wordpieces']}-wordpiece windows, stride {inference['hf_pipeline']['stride']} |",
        "",
        "## Targets",
        "",
        "| measure | value | target | met |",
        "| --- | ---: | --- | --- |",
    ]
    lines += [
        f"| {name} | {target['value']:.3f} | {target['target']} | {'yes' if target['met'] else '**no**'} |"
        for name, target in results["targets"].items()
    ]
    lines += [
        "",
        f"## Accuracy: strict span micro scores on {accuracy['test_documents']} test documents",
        "",
        "| system | precision | recall | F1 | lenient F1 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {accuracy[system]['precision']:.4f} | {accuracy[system]['recall']:.4f} | {accuracy[system]['f1']:.4f} | "
        + (f"{accuracy['lenient_f1'][system]:.4f} |" if system in accuracy["lenient_f1"] else "- |")
        for system, name in (("ours", "ours"), ("quantized", "ours, int8"), ("peer", "HF token classification"))
    ]
    lines += [
        "",
        "## Peak memory of `nlp.pipe` (fresh process each)",
        "",
        "| texts | peak RSS of loading (MiB) | peak RSS of the run (MiB) | peak GPU (MiB) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in ("corpus", "long_note", "short_note"):
        row = memory[name]
        gpu_peak = f"{row['gpu_peak_mib']:,.0f}" if "gpu_peak_mib" in row else "-"
        lines.append(f"| {name} | {row['rss_after_load_mib']:,.0f} | {row['rss_peak_mib']:,.0f} | {gpu_peak} |")
    lines += [
        f"\nLong / short note peak RSS: {memory['long_over_short']:.2f}. "
        f"CRF decoding: {results['crf_share']['median']:.1%} of our inference time.",
        "",
        "## Training throughput (steady state, first step left out)",
        "",
        "| system | words/s | setting |",
        "| --- | ---: | --- |",
        f"| ours: spaCy training loop | {training['ours']['words_per_second']:,.0f} | {training['ours']['steps_timed']} steps, "
        f"{training['recipe']['words_per_batch']} words per batch |",
        f"| HF `Trainer`, token classification | {training['hf_trainer']['words_per_second']:,.0f} | "
        f"{training['hf_trainer']['steps']} steps, batch of {training['hf_trainer']['batch_size']} windows |",
        f"\nOurs / HF Trainer: {ratios['training_ours_to_hf_trainer']:.2f}.",
        "",
        "## Machine",
        "",
        f"- CPU: {machine['cpu']}; {machine['logical_cores']} logical cores, {machine['usable_cores']} usable, "
        f"torch threads {machine['torch_threads']}; load average at the end {machine['load_average']}",
        f"- GPU: {machine['gpu'] or 'none'}",
        "- " + ", ".join(f"{name} {version}" for name, version in machine["versions"].items()),
        "",
    ]
    if "heads" in results:
        heads = results["heads"]
        lines += [
            f"## Heads of the multi-task model `{heads['model']}` ({heads['words']:,} words)",
            "",
            "| heads on the shared transformer | words/s |",
            "| --- | ---: |",
        ]
        lines += [f"| {name} | {speed['words_per_second']:,.0f} |" for name, speed in heads["words_per_second"].items()]
        lines.append("")
    return "\n".join(lines)


def write_results(results: Dict[str, object], output_dir: PathLike) -> None:
    """Write ``results.json`` and ``results.md`` to ``output_dir``."""
    write_report(Path(output_dir) / "results", results, results_markdown(results))


def main(
    model: Path = typer.Argument(..., help="trained pipeline directory (e.g. training/n2c2-crf/model-last)"),
    train: Path = typer.Argument(..., help="training DocBin: the peer's training data and our training-speed data"),
    test: Path = typer.Argument(..., help="test DocBin: its notes are the benchmark texts and the F1 documents"),
    output_dir: Path = typer.Option(Path("benchmarks"), help="where results.json / .md go"),
    gpu: bool = typer.Option(False, help="run everything on GPU 0"),
    repetitions: int = typer.Option(BenchmarkSettings.repetitions, help="repetitions per measurement (median reported)"),
    min_words: int = typer.Option(BenchmarkSettings.min_words, help="words in the repeated notes"),
    long_note_words: int = typer.Option(BenchmarkSettings.long_note_words, help="words in the long note"),
    short_note_words: int = typer.Option(BenchmarkSettings.short_note_words, help="words in the short note"),
    batch_sizes: List[int] = typer.Option(list(BenchmarkSettings.batch_sizes), "--batch-size", help="nlp.pipe / pipeline batch sizes to try (repeatable)"),
    tuning_words: int = typer.Option(BenchmarkSettings.tuning_words, help="words timed per batch-size trial"),
    peer_steps: Optional[int] = typer.Option(None, help="peer training steps (default: the steps our config makes on the training data)"),
    training_steps: int = typer.Option(BenchmarkSettings.training_steps, help="steps timed for our training throughput"),
    limit_batch_wordpieces: int = typer.Option(BenchmarkSettings.limit_batch_wordpieces, help="padded wordpieces per batch of the limit"),
    multitask_model: Optional[Path] = typer.Option(None, help="also time this multi-task pipeline with every head and with its first head only"),
) -> None:
    """Benchmark a trained pipeline against its bare transformer and a Hugging Face peer; write
    OUTPUT_DIR/results.json and results.md."""
    logging.basicConfig(format="%(asctime)s %(message)s")
    logger.setLevel(logging.INFO)
    settings = BenchmarkSettings(
        repetitions=repetitions,
        min_words=min_words,
        long_note_words=long_note_words,
        short_note_words=short_note_words,
        batch_sizes=batch_sizes,
        tuning_words=tuning_words,
        peer_steps=peer_steps,
        training_steps=training_steps,
        limit_batch_wordpieces=limit_batch_wordpieces,
        gpu=gpu,
        multitask_model=multitask_model,
    )
    results = run_benchmark(model, train, test, settings)
    write_results(results, output_dir)
    print((output_dir / "results.md").read_text(encoding="utf8"))


if __name__ == "__main__":
    typer.run(main)
