"""The whole benchmark: :func:`run_benchmark` with its :class:`BenchmarkSettings`."""

import logging
import statistics
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import spacy
import torch
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from clinical_ie.annotate.measure import count_words
from clinical_ie.evaluation.evaluate import model_source, predict_docs, read_docs
from clinical_ie.evaluation.metrics import gold_entity_spans, predicted_entity_spans, score_spans
from clinical_ie.pipeline.transformer import QUANTIZE_ON_LOAD, resolve_transformer

from ..measure import in_fresh_process
from .memory import measure_memory
from .peer import (
    TrainingRecipe,
    bio_label_names,
    load_peer_tokenizer,
    peer_entity_spans,
    peer_pipeline,
    peer_stride,
    peer_training_examples,
    run_peer,
    time_peer,
    train_peer,
)
from .report import summarize
from .texts import BenchmarkTexts, benchmark_texts, notes_to_words
from .timing import (
    LIMIT_WINDOW,
    PathLike,
    limit_inputs,
    recorded_transformer_inputs,
    speed_summary,
    time_forward,
    time_pipeline,
    tune_batch_size,
    use_device,
    window_summary,
)
from .training import count_training_steps, load_training_config, time_our_training

logger = logging.getLogger(__name__)


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


def stock_spacy_pipeline(base: PathLike, examples: Sequence) -> Language:
    """spaCy's quickstart transformer + ``ner`` (``init config --pipeline ner --gpu``) on ``base``,
    initialized with the labels of ``examples``."""
    from spacy.cli.init_config import init_config

    config = init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=True, pretraining=False, silent=True)
    config["components"]["transformer"]["model"]["name"] = str(base)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    nlp.initialize(lambda: examples)
    return nlp


def strict_micro(scores: Dict[str, object]) -> Dict[str, float]:
    """Strict micro precision, recall and F1 of :func:`~clinical_ie.evaluation.metrics.score_spans` output."""
    micro = scores["strict"]["micro"]
    return {"precision": micro["precision"], "recall": micro["recall"], "f1": micro["f1"]}


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
