"""The transformer models: v1 pickles (spaCy's n_process under spawn needs that); v2 runs the
windows in length buckets with the same outputs and gradients as v1, and its int8 path is a
load-time option that never changes the saved weights."""

import pickle

import numpy
import pytest
import spacy
from spacy.training import Example
from spacy.util import load_model_from_config
from thinc.api import fix_random_seed

import clinical_ie.pipeline.transformer  # noqa: F401  (registers the architectures)
from clinical_ie.corpora.brat import read_brat_folder
from clinical_ie.corpora.conversion_report import ConversionReport
from clinical_ie.pipeline.base import default_model_config
from clinical_ie.pipeline.crf_ner.model import DEFAULT_CRF_MODEL
from clinical_ie.pipeline.transformer import QUANTIZE_ON_LOAD, length_buckets
from tests.util import SAMPLE_NOTES, listening, transformer_pipeline_config

V1, V2 = "clinical_ie.TransformerModel.v1", "clinical_ie.TransformerModel.v2"
NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}


def pipeline(tiny_bert, architecture, heads=None, **model_settings):
    config = transformer_pipeline_config(tiny_bert, heads or {}, architecture=architecture, max_batch_items=None,
                                         clinical_tokenizer=True)
    config["components"]["transformer"]["model"].update(model_settings)
    return load_model_from_config(config, auto_fill=True)


def sample_docs(n):
    return list(read_brat_folder(SAMPLE_NOTES, ConversionReport("brat")))[:n]


def real_wordpiece_vectors(doc):
    """The transformer's output at the real (not padding) wordpieces of each window."""
    data = doc._.trf_data
    return [data.tensors[0][i, :n] for i, n in enumerate(data.wordpieces.lengths)]


def test_pipeline_pickles_and_gives_the_same_output(tiny_bert):
    config = transformer_pipeline_config(tiny_bert, {}, architecture=V1, max_batch_items=None)
    nlp = load_model_from_config(config, auto_fill=True)
    nlp.initialize()
    text = "Aspirin 81 mg PO daily for chest pain."
    copy = pickle.loads(pickle.dumps(nlp))
    expected = nlp(text)._.trf_data.tensors[0]
    numpy.testing.assert_allclose(copy(text)._.trf_data.tensors[0], expected, rtol=1e-6)
    assert copy.get_pipe("transformer").model.attrs["name"] == str(tiny_bert)


def test_length_buckets_sort_windows_and_bound_padding():
    lengths = [100, 200, 98, 199, 60, 100, 190, 61]
    buckets = length_buckets(lengths, max_bucket_wordpieces=400)
    rows = [int(row) for bucket, _ in buckets for row in bucket]
    assert sorted(rows) == list(range(len(lengths)))  # every window once
    assert [lengths[row] for row in rows] == sorted(lengths, reverse=True)
    for bucket, width in buckets:
        assert width == max(lengths[r] for r in bucket) and (len(bucket) * width <= 400 or len(bucket) == 1)
        assert all(lengths[r] >= 0.95 * width for r in bucket)  # padding under 5 %
    assert [[lengths[r] for r in bucket] for bucket, _ in buckets] == [[200, 199], [190], [100, 100, 98], [61, 60]]
    assert length_buckets([900, 5], 400)[0][0].tolist() == [0]  # a window longer than the budget runs alone


def test_v2_gives_v1_outputs_with_less_padding(tiny_bert):
    texts = [doc.text for doc in sample_docs(4)]
    v1, v2 = pipeline(tiny_bert, V1), pipeline(tiny_bert, V2, max_bucket_wordpieces=512)
    for nlp in (v1, v2):
        nlp.initialize()
    for doc1, doc2 in zip(v1.pipe(texts), v2.pipe(texts)):
        assert doc1._.trf_data.wordpieces.lengths == doc2._.trf_data.wordpieces.lengths
        for a, b in zip(real_wordpiece_vectors(doc1), real_wordpiece_vectors(doc2)):
            numpy.testing.assert_allclose(a, b, atol=1e-5)


def test_v2_trains_as_v1(tiny_bert):
    """Without dropout (whose masks depend on the batch layout), three updates of v1 and v2 give
    the same losses and encoder weights: the buckets' gradients reach the encoder as the whole batch's do."""
    gold = sample_docs(4)
    head = {"factory": "clinical_crf_ner", "model": listening(default_model_config(DEFAULT_CRF_MODEL), hidden_width=32)}
    results = []
    for architecture, settings in ((V1, {}), (V2, {"max_bucket_wordpieces": 512})):
        fix_random_seed(0)
        nlp = pipeline(tiny_bert, architecture, {"ner": head}, transformer_config=NO_DROPOUT, **settings)
        examples = [Example(nlp.make_doc(doc.text), doc) for doc in gold]
        optimizer = nlp.initialize(lambda: examples)
        losses = [nlp.update(examples, sgd=optimizer)["ner"] for _ in range(3)]
        weights = nlp.get_pipe("transformer").model.transformer.embeddings.word_embeddings.weight.detach().numpy().copy()
        results.append((losses, weights))
    (losses1, weights1), (losses2, weights2) = results
    assert losses2 == pytest.approx(losses1, rel=1e-4)
    numpy.testing.assert_allclose(weights2, weights1, atol=1e-5)


def test_quantize_is_a_load_time_option_that_never_changes_the_saved_weights(tiny_bert, tmp_path):
    nlp = pipeline(tiny_bert, V2)
    nlp.initialize()
    nlp.to_disk(tmp_path / "fp32")
    texts = [doc.text for doc in sample_docs(2)]
    reference = [real_wordpiece_vectors(doc) for doc in nlp.pipe(texts)]
    int8 = spacy.load(tmp_path / "fp32", config=QUANTIZE_ON_LOAD)
    quantized = [real_wordpiece_vectors(doc) for doc in int8.pipe(texts)]
    differences = [numpy.abs(a - b).max() for doc_a, doc_b in zip(reference, quantized) for a, b in zip(doc_a, doc_b)]
    assert 0 < max(differences) < 0.5  # int8 arithmetic: close, not equal
    int8.to_disk(tmp_path / "saved_from_int8")  # its config keeps the option; its weights stay fp32
    fp32 = {"components.transformer.model.quantize": False}
    weights = nlp.get_pipe("transformer").model.transformer.state_dict()
    for name in ("fp32", "saved_from_int8"):
        reloaded = spacy.load(tmp_path / name, config=fp32)
        saved = reloaded.get_pipe("transformer").model.transformer.state_dict()
        assert saved.keys() == weights.keys() and all((saved[key] == weights[key]).all() for key in weights)
        for doc, expected in zip(reloaded.pipe(texts), reference):
            for a, b in zip(real_wordpiece_vectors(doc), expected):
                numpy.testing.assert_allclose(a, b, atol=1e-5)


def test_v1_pipeline_loads_quantized_too(tiny_bert, tmp_path):
    nlp = pipeline(tiny_bert, V1)
    nlp.initialize()
    nlp.to_disk(tmp_path / "v1")
    int8 = spacy.load(tmp_path / "v1", config=QUANTIZE_ON_LOAD)
    assert int8.config["components"]["transformer"]["model"]["quantize"] is True
    assert len(int8("Aspirin 81 mg PO daily.")._.trf_data.tensors[0])


def test_v2_halves_a_window_too_long_for_the_model_instead_of_truncating_it(tiny_bert):
    """A window of 48 tokens that holds more than 512 wordpieces (placeholders are one token and
    many wordpieces) is halved until it fits: every token keeps wordpieces, none is cut off."""
    nlp = pipeline(tiny_bert, V2)
    nlp.initialize()
    tokenizer = nlp.get_pipe("transformer").model.tokenizer
    text = " ".join(["[**Known lastname 1234 Hospital1 18 Telephone/Fax (1) 5678**]"] * 60)
    doc = nlp(text)
    data = doc._.trf_data
    assert max(data.wordpieces.lengths) <= tokenizer.model_max_length
    assert len(data.wordpieces.lengths) > 2  # 60 tokens fit in one 64-token window, which had to be halved
    assert all(len(data.align[i].data) > 0 for i in range(len(doc)) if not doc[i].is_space)
