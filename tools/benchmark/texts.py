"""The benchmark texts: the test notes repeated to a word count, one long note and one short note."""

from dataclasses import dataclass
from itertools import cycle
from typing import Dict, List, Sequence

from spacy.language import Language

from clinical_ie.annotate.measure import count_words


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
