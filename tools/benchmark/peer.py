"""The Hugging Face peer: ``AutoModelForTokenClassification`` fine-tuned with the ``Trainer`` on
our training documents and our recipe, run through ``pipeline("token-classification")``."""

from dataclasses import dataclass
from time import perf_counter
from typing import Dict, List, Sequence

import torch
from spacy.tokens import Doc

from clinical_ie.evaluation.metrics.spans import EntitySpan
from clinical_ie.pipeline.crf_ner import crf

from .timing import PathLike, synchronize
from .training import windowed_throughput


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
