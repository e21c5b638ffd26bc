"""Training throughput of ours: spaCy's training loop on the pipeline's own config, from its
pretrained base, timed step by step."""

from pathlib import Path
from time import perf_counter
from typing import Dict, List, Sequence

import spacy
from spacy.language import Language

from clinical_ie.annotate.measure import count_words

from .timing import PathLike, synchronize, use_device


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
