"""The training readers: file tokens kept for pre-tokenized documents, task mixing."""

from collections import Counter

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.util import load_config, registry

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.corpora.readers import create_corpus, create_task_mix_corpus, draw
from clinical_ie.evaluation.evaluate import predict_docs, read_docs
from clinical_ie.corpora.prepare import prepare_corpus
from clinical_ie.pipeline.tokenizer import clinical_english
from tests.util import CONFIGS, SAMPLE_DIR

HANDOVER_SAMPLE = SAMPLE_DIR / "handover"


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


def tokens(doc):
    return [(token.text, token.whitespace_) for token in doc]


@pytest.fixture(scope="module")
def handover_corpus(tmp_path_factory):
    """The sample handover corpus converted to train/dev/test DocBins."""
    if not HANDOVER_SAMPLE.exists():
        pytest.skip("assets/sample not generated")
    output = tmp_path_factory.mktemp("handover_corpus")
    prepare_corpus("handover", HANDOVER_SAMPLE, output)
    return output


CONFIG_PATHS = {
    "multitask.cfg": ("paths.handover_train", "paths.handover_dev"),
    "gpu.cfg": ("paths.handover_train", "paths.handover_dev"),
    "default.cfg": ("paths.train", "paths.dev"),
    "ner_builtin.cfg": ("paths.train", "paths.dev"),
}


@pytest.mark.parametrize("config_name", sorted(CONFIG_PATHS))
def test_training_sees_the_file_tokens_that_evaluation_feeds_the_model(handover_corpus, config_name):
    train_key, dev_key = CONFIG_PATHS[config_name]
    overrides = {train_key: str(handover_corpus / "train.spacy"), dev_key: str(handover_corpus / "dev.spacy")}
    config = load_config(CONFIGS / config_name, overrides=overrides, interpolate=True)
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": config["nlp"]["tokenizer"]}})
    training = {eg.reference._.doc_id: eg for eg in registry.resolve(config["corpora"])["train"](nlp)}
    fed = {doc._.doc_id: doc for doc in predict_docs(nlp, read_docs(handover_corpus / "train.spacy", nlp.vocab))}
    files = sorted((HANDOVER_SAMPLE / "train").glob("*.txt"))
    assert sorted(training) == sorted(fed) == sorted(path.stem for path in files)
    for path in files:
        example = training[path.stem]
        assert tokens(example.predicted) == tokens(fed[path.stem]) == tokens(example.reference), path.name
        lines = path.read_text(encoding="utf8").splitlines()
        file_tokens = [line.split("\t")[0] for line in lines if line.strip()]
        assert [token.text for token in example.predicted if not token.is_space] == file_tokens, path.name
        assert not example.predicted.has_annotation("ENT_IOB")


def write_docs(path, docs):
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    return path


def test_pretokenized_docs_keep_their_tokens_others_get_make_doc(tmp_path):
    nlp = clinical_english()
    note = Doc(nlp.vocab, words=["aspirin", "5mg."], spaces=[True, False])
    note._.corpus = "n2c2"
    handover = Doc(nlp.vocab, words=["in", "bed.", "X-ray"], spaces=[True, True, False])
    handover._.corpus, handover._.pretokenized = "handover", True
    handover.ents = [handover.char_span(0, 2, label="MyShift_Status")]
    for doc in (note, handover):  # the clinical tokenizer splits both differently
        assert [t.text for t in nlp.make_doc(doc.text)] != [t.text for t in doc]
    path = write_docs(tmp_path / "docs.spacy", [note, handover])
    note_example, handover_example = create_corpus(path, gold_preproc=False)(nlp)
    assert tokens(note_example.predicted) == tokens(nlp.make_doc(note.text))
    assert tokens(handover_example.predicted) == tokens(handover)
    assert not handover_example.predicted.ents and not handover_example.predicted.user_data


def test_max_length_cuts_into_sentences_that_keep_tokens_and_corpus(tmp_path):
    nlp = clinical_english()
    words, spaces = ["in", "bed.", "\n", "X-ray", "done."], [True, False, False, True, False]
    doc = Doc(nlp.vocab, words=words, spaces=spaces, sent_starts=[True, False, False, True, False])
    doc._.corpus, doc._.pretokenized = "handover", True
    path = write_docs(tmp_path / "docs.spacy", [doc])
    readers = (
        create_corpus(path, gold_preproc=False, max_length=4),
        create_task_mix_corpus({"handover": str(path)}, max_length=4),
    )
    for reader in readers:
        examples = list(reader(nlp))
        assert [[t.text for t in eg.predicted] for eg in examples] == [words[:3], words[3:]]
        assert [eg.reference._.corpus for eg in examples] == ["handover", "handover"]
    assert [len(eg.predicted) for eg in create_corpus(path, gold_preproc=False, max_length=6)(nlp)] == [5]
