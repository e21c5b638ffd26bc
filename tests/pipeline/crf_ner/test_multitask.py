"""Several CRF heads on one encoder: each learns only from its own corpus and writes its own key."""

from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import load_model_from_config
from thinc.api import Adam, Config, fix_random_seed

import clinical_ie.pipeline  # noqa: F401  (registers the extensions)
from clinical_ie.pipeline.crf_ner import score_crf_spans

TWO_HEADS = """
[nlp]
lang = "en"
pipeline = ["tok2vec", "ner", "handover"]

[components]

[components.tok2vec]
factory = "tok2vec"

[components.tok2vec.model]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 64
depth = 2
embed_size = 1000
window_size = 1
maxout_pieces = 3
subword_features = true

[components.ner]
factory = "clinical_crf_ner"
spans_key = "medication"
set_ents = true
task = "n2c2"

[components.ner.model]
@architectures = "clinical_ie.CRFTagger.v1"

[components.ner.model.tok2vec]
@architectures = "spacy.Tok2VecListener.v1"
width = 64
upstream = "tok2vec"

[components.handover]
factory = "clinical_crf_ner"
spans_key = "handover"
set_ents = false
task = "handover"

[components.handover.model]
@architectures = "clinical_ie.CRFTagger.v1"

[components.handover.model.tok2vec]
@architectures = "spacy.Tok2VecListener.v1"
width = 64
upstream = "tok2vec"
"""


def example(nlp, words, ents, corpus):
    reference = Doc(nlp.vocab, words=words)
    reference.ents = [Span(reference, s, e, label) for label, s, e in ents]
    reference._.corpus = corpus
    return Example(nlp.make_doc(reference.text), reference)


def mixed_examples(nlp):
    n2c2 = [
        example(nlp, ["take", dose, "mg", "of", drug, "daily"], [("Strength", 1, 3), ("Drug", 4, 5)], "n2c2")
        for dose in ("5", "10", "20") for drug in ("aspirin", "heparin", "insulin")
    ]
    handover = [
        example(nlp, ["bed", bed, name, "is", "stable"], [("PatientIntroduction_CurrentBed", 1, 2), ("PatientIntroduction_Lastname", 2, 3)], "handover")
        for bed in ("4", "5", "7") for name in ("Smith", "Jones", "Brown")
    ]
    return n2c2, handover


def build(config: str = TWO_HEADS):
    fix_random_seed(0)  # the weights' initialization must not depend on which tests ran before
    nlp = load_model_from_config(Config().from_str(config), auto_fill=True, validate=True)
    n2c2, handover = mixed_examples(nlp)
    nlp.initialize(lambda: n2c2 + handover)
    return nlp, n2c2, handover


def test_each_head_has_only_its_own_labels():
    nlp, _, _ = build()
    assert set(nlp.get_pipe("ner").labels) == {"Drug", "Strength"}
    assert set(nlp.get_pipe("handover").labels) == {"PatientIntroduction_CurrentBed", "PatientIntroduction_Lastname"}


def test_other_corpus_gives_no_gradient():
    """A handover-only batch changes nothing in the medication head (it never learns "O")."""
    nlp, _, handover = build()
    ner = nlp.get_pipe("ner")
    before = {name: ner.model.get_param(name).copy() for name in ("transitions", "start", "end")}
    output_before = ner.model.get_ref("output_layer").get_param("W").copy()
    nlp.update(handover[:4], sgd=Adam(0.01))
    for name, value in before.items():
        assert (ner.model.get_param(name) == value).all(), name
    assert (ner.model.get_ref("output_layer").get_param("W") == output_before).all()
    handover_head = nlp.get_pipe("handover")
    assert handover_head.model.get_param("transitions").any()


def test_joint_training_learns_both_tasks_and_writes_both_keys():
    nlp, n2c2, handover = build()
    optimizer = Adam(0.01)
    mixed = [eg for pair in zip(n2c2, handover) for eg in pair]
    for step in range(60):
        nlp.update(mixed[(step * 4) % len(mixed):][:4], sgd=optimizer)
    scores = nlp.evaluate(n2c2 + handover)
    assert scores["spans_medication_f"] > 0.9
    assert scores["spans_handover_f"] > 0.9
    doc = nlp("take 10 mg of heparin daily")
    assert [s.label_ for s in doc.spans["medication"]] == ["Strength", "Drug"]
    assert list(doc.ents) == list(doc.spans["medication"])
    assert "handover" in doc.spans


def test_scorer_counts_only_the_heads_task():
    nlp, n2c2, handover = build()
    for eg in n2c2 + handover:
        eg.predicted.spans["handover"] = []
    scores = score_crf_spans(n2c2 + handover, spans_key="handover", task="handover")
    assert scores["spans_handover_r"] == 0.0  # handover gold counted...
    only_other = score_crf_spans(n2c2, spans_key="handover", task="handover")
    assert only_other["spans_handover_f"] is None  # ...n2c2 documents are not


def test_heads_keep_their_own_confidence_on_spans_at_the_same_offsets():
    """spaCy keys span extensions by offsets only: the handover head, which runs after the n2c2
    head, must not overwrite the n2c2 head's confidence of a span at the same offsets."""
    nlp, n2c2, handover = build()
    optimizer = Adam(0.01)
    mixed = [eg for pair in zip(n2c2, handover) for eg in pair]
    for step in range(20):
        nlp.update(mixed[(step * 4) % len(mixed):][:4], sgd=optimizer)
    doc = nlp("bed 5 heparin 10 mg daily Smith")
    ner, handover_head = nlp.get_pipe("ner"), nlp.get_pipe("handover")
    for head in (ner, handover_head):
        head.cfg["temperature"] = 1.0
        decoded = head.decode(head.content_scores([doc]), 1.0)[0]
        spans = list(doc.spans[head.cfg["spans_key"]])
        assert [(s.start, s.end) for s in spans] == list(zip(decoded.starts.tolist(), decoded.ends.tolist()))
        assert [s._.confidence for s in spans] == decoded.probabilities.tolist()
    # the same offsets under two labels: each keeps its own value
    first, second = Span(doc, 1, 2, "Drug"), Span(doc, 1, 2, "PatientIntroduction_CurrentBed")
    first._.confidence, second._.confidence = 0.25, 0.75
    assert (Span(doc, 1, 2, "Drug")._.confidence, second._.confidence) == (0.25, 0.75)
    assert Span(doc, 1, 2, "NoSuchLabel")._.confidence is None
