"""Training readers: several corpora, one per task, mixed by a sampling ratio."""

import random
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

from spacy.language import Language
from spacy.training import Corpus, Example
from spacy.util import registry


@registry.readers("clinical_ie.TaskMixCorpus.v1")
def create_task_mix_corpus(
    paths: Dict[str, Optional[str]],
    ratios: Optional[Dict[str, float]] = None,
    seed: int = 0,
    max_length: int = 0,
) -> Callable[[Language], Iterator[Example]]:
    """Examples of several DocBins, ``paths`` = task -> path (null: task left out).

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
            task: Corpus(Path(path), max_length=max_length, shuffle=False)
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
