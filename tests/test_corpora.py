"""The task-mixing training reader."""

from collections import Counter

import pytest
import spacy
from spacy.tokens import Doc, DocBin

import clinical_ie  # noqa: F401
from clinical_ie.corpora import create_task_mix_corpus, draw


def write_corpus(path, nlp, corpus, n):
    docs = []
    for i in range(n):
        doc = Doc(nlp.vocab, words=[corpus, str(i)])
        doc._.corpus = corpus
        doc._.doc_id = f"{corpus}{i}"
        docs.append(doc)
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    return str(path)


@pytest.fixture
def paths(tmp_path):
    nlp = spacy.blank("en")
    return {"n2c2": write_corpus(tmp_path / "a.spacy", nlp, "n2c2", 30), "handover": write_corpus(tmp_path / "b.spacy", nlp, "handover", 10)}


def corpus_counts(reader):
    return Counter(eg.reference._.corpus for eg in reader(spacy.blank("en")))


def test_without_ratios_every_example_once(paths):
    assert corpus_counts(create_task_mix_corpus(paths)) == {"n2c2": 30, "handover": 10}


def test_ratios_set_the_share_of_each_task(paths):
    assert corpus_counts(create_task_mix_corpus(paths, {"n2c2": 0.5, "handover": 0.5})) == {"n2c2": 20, "handover": 20}
    assert corpus_counts(create_task_mix_corpus(paths, {"n2c2": 3, "handover": 1})) == {"n2c2": 30, "handover": 10}


def test_zero_ratio_or_null_path_leaves_a_task_out(paths):
    assert corpus_counts(create_task_mix_corpus(paths, {"n2c2": 1.0, "handover": 0.0})) == {"n2c2": 30}
    assert corpus_counts(create_task_mix_corpus({**paths, "handover": None})) == {"n2c2": 30}


def test_draw_repeats_whole_passes_before_repeating_an_example():
    import random

    drawn = draw(list(range(10)), 25, random.Random(0))
    assert len(drawn) == 25 and Counter(drawn[:20]) == Counter(list(range(10)) * 2)


def test_same_seed_same_examples(paths):
    first = [eg.reference._.doc_id for eg in create_task_mix_corpus(paths, {"n2c2": 1, "handover": 1}, seed=3)(spacy.blank("en"))]
    again = [eg.reference._.doc_id for eg in create_task_mix_corpus(paths, {"n2c2": 1, "handover": 1}, seed=3)(spacy.blank("en"))]
    assert first == again


def test_ratio_for_unknown_task_is_an_error(paths):
    with pytest.raises(ValueError, match="without a path"):
        create_task_mix_corpus(paths, {"radiology": 1.0})
