"""Training readers: documents keep the file's tokens; several corpora mixed by a ratio."""

import random
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Union

from spacy.errors import Errors
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Corpus, Example
from spacy.util import registry


@registry.readers("clinical_ie.Corpus.v1")
def create_corpus(
    path: Optional[Union[str, Path]],
    gold_preproc: bool,
    max_length: int = 0,
    limit: int = 0,
    augmenter: Optional[Callable] = None,
) -> Callable[[Language], Iterator[Example]]:
    """``spacy.Corpus.v1`` (same arguments) reading a :class:`ClinicalCorpus`."""
    if path is None:
        raise ValueError(Errors.E913)
    return ClinicalCorpus(
        path, gold_preproc=gold_preproc, max_length=max_length, limit=limit, augmenter=augmenter
    )


class ClinicalCorpus(Corpus):
    """spaCy's :class:`~spacy.training.Corpus`, except that pre-tokenized documents keep their tokens.

    For a reference with ``doc._.pretokenized`` (handover files) the predicted Doc is
    built from the reference's own words and spaces and carries nothing else of it: the
    tokens evaluation (:func:`clinical_ie.evaluation.evaluate.predict_docs`) feeds the model. Any
    other reference gets ``nlp.make_doc(reference.text)``, as in spaCy. ``max_length``,
    ``limit``, ``augmenter`` and ``gold_preproc`` work as in spaCy: a document of
    ``max_length`` tokens or more is cut into its sentences (those shorter than
    ``max_length``); each sentence keeps the document's ``doc._.corpus``, which spaCy's
    ``Span.as_doc`` would drop (``gold_preproc`` still drops it, as in spaCy).
    """

    def make_examples(self, nlp: Language, reference_docs: Iterable[Doc]) -> Iterator[Example]:
        for reference in reference_docs:
            for piece in self.pieces(reference):
                # spaCy's gold_preproc example: predicted = Doc(vocab, reference words, spaces)
                yield self._make_example(nlp, piece, gold_preproc=bool(reference._.pretokenized))

    def pieces(self, reference: Doc) -> List[Doc]:
        """``reference`` itself, or its sentences when it has ``max_length`` tokens or more."""
        if len(reference) == 0:
            return []
        if self.max_length == 0 or len(reference) < self.max_length:
            return [reference]
        if not reference.has_annotation("SENT_START"):
            return []
        pieces = []
        for sentence in reference.sents:
            if 0 < len(sentence) < self.max_length:
                piece = sentence.as_doc()
                piece._.corpus = reference._.corpus
                pieces.append(piece)
        return pieces


@registry.readers("clinical_ie.TaskMixCorpus.v1")
def create_task_mix_corpus(
    paths: Dict[str, Optional[str]],
    ratios: Optional[Dict[str, float]] = None,
    seed: int = 0,
    max_length: int = 0,
) -> Callable[[Language], Iterator[Example]]:
    """Examples of several DocBins (each a :class:`ClinicalCorpus`), ``paths`` = task -> path
    (null: task left out).

    Without ``ratios`` a call yields every example once (for dev sets). With ``ratios``
    (task -> weight) a call yields as many examples as the weighted tasks hold together,
    ``weight / sum(weights)`` of them drawn from each task: the smaller corpus is repeated,
    the larger subsampled, shuffled from ``seed`` (spaCy calls a reader once per training
    run when ``max_epochs`` is set, and shuffles the examples every epoch). A weight of 0
    leaves a task out, so single-task runs use the same config.
    """
    return TaskMixCorpus(paths, ratios, seed, max_length)


class TaskMixCorpus:
    """See :func:`create_task_mix_corpus`."""

    def __init__(self, paths, ratios, seed, max_length):
        unknown = set(ratios or {}).difference(paths)
        if unknown:
            raise ValueError(f"ratios name tasks without a path: {sorted(unknown)}")
        self.corpora = {
            task: ClinicalCorpus(Path(path), max_length=max_length, shuffle=False)
            for task, path in paths.items()
            if path
        }
        self.ratios = ratios
        self.seed = seed
        self.epoch = 0

    def task_counts(self, sizes: Dict[str, int]) -> Dict[str, int]:
        """How many examples of each task one epoch draws."""
        if self.ratios is None:
            return dict(sizes)
        weights = {task: self.ratios.get(task, 0.0) for task in sizes}
        total_weight = sum(weights.values())
        if total_weight <= 0:
            raise ValueError("ratios give every task a weight of 0")
        total = sum(sizes[task] for task, weight in weights.items() if weight > 0)
        return {task: round(total * weight / total_weight) for task, weight in weights.items()}

    def __call__(self, nlp: Language) -> Iterator[Example]:
        examples = {task: list(corpus(nlp)) for task, corpus in self.corpora.items()}
        counts = self.task_counts({task: len(found) for task, found in examples.items()})
        self.epoch += 1
        for task, found in examples.items():
            if self.ratios is None:
                yield from found
            else:
                yield from draw(found, counts[task], random.Random(f"{self.seed}:{self.epoch}:{task}"))


def draw(examples: List[Example], count: int, rng: random.Random) -> List[Example]:
    """``count`` examples: whole shuffled passes over ``examples``, then a shuffled part."""
    if not examples:
        return []
    drawn = []
    while len(drawn) < count:
        shuffled = list(examples)
        rng.shuffle(shuffled)
        drawn.extend(shuffled[: count - len(drawn)])
    return drawn
