"""Smoke test of the benchmark library on the tiny BERT: small sizes, one repetition.

It checks the structure of the results and that every measured number is positive; the
numbers themselves are measured by ``python -m tools.benchmark``, not asserted here. The whole run
goes in-process (starting Python five times would take most of a minute); one test checks
that a measurement does run in a fresh process.
"""


import pytest
import spacy
from spacy.training.initialize import init_nlp
from spacy.util import load_config

from tools.benchmark import TARGETS, BenchmarkSettings, memory, results_markdown, run, run_benchmark, write_results
from tools.benchmark.memory import pipeline_peak_memory
from tools.benchmark.peer import bio_label_names, peer_training_examples
from tools.benchmark.timing import limit_inputs
from tools.benchmark.training import windowed_throughput
from tools.measure import in_fresh_process
from clinical_ie.evaluation.evaluate import read_docs
from clinical_ie.corpora.prepare import prepare_corpus
from tests.util import REPO_ROOT, SAMPLE_DIR



@pytest.fixture(scope="module")
def untrained_pipeline(tiny_bert, tmp_path_factory):
    """The default config on the tiny BERT, initialized on the sample corpus (not trained): (model, train, test)."""
    root = tmp_path_factory.mktemp("benchmark")
    prepare_corpus("n2c2", SAMPLE_DIR / "n2c2", root / "corpus")
    train, test = root / "corpus" / "train.spacy", root / "corpus" / "test.spacy"
    overrides = {
        "paths.train": str(train),
        "paths.dev": str(root / "corpus" / "dev.spacy"),
        "components.transformer.model.name": str(tiny_bert),
        "training.logger.logger2.mode": "disabled",
    }
    nlp = init_nlp(load_config(REPO_ROOT / "configs" / "default.cfg", overrides=overrides))
    nlp.to_disk(root / "model")
    return root / "model", train, test


def test_windowed_throughput_leaves_out_the_first_step():
    step_ends = [10.0, 11.0, 12.0, 14.0, 15.0]
    assert windowed_throughput(step_ends, [99, 10, 10, 10, 10], repetitions=2) == [10.0, 20 / 3]


def test_peer_examples_label_the_first_wordpiece_of_each_word(untrained_pipeline):
    model, train, _ = untrained_pipeline
    nlp = spacy.load(model)
    tokenizer = nlp.get_pipe("transformer").model.tokenizer
    doc = read_docs(train, nlp.vocab)[0]
    labels = list(nlp.get_pipe("ner").labels)
    n_words = sum(not token.is_space for token in doc)
    examples = peer_training_examples([doc], labels, tokenizer, window=64)
    assert sum(example["n_words"] for example in examples) == n_words
    names = bio_label_names(labels)
    labelled = [names[tag] for example in examples for tag in example["labels"] if tag != -100]
    # A wordpiece spanning several words ("q8h" for "q", "8", "h") carries the first word's tag only.
    assert 0.95 * n_words <= len(labelled) <= n_words
    assert labelled.count("O") < len(labelled)


def test_peak_memory_is_measured_in_a_fresh_process(untrained_pipeline):
    model, _, _ = untrained_pipeline
    memory = in_fresh_process(pipeline_peak_memory, model, ["Aspirin 81 mg PO daily."], 1, False)
    assert memory["rss_peak_mib"] > 0 and memory["rss_after_load_mib"] > 0
    assert "gpu_peak_mib" not in memory


def test_run_benchmark_gives_every_measurement(untrained_pipeline, tmp_path, monkeypatch):
    model, train, test = untrained_pipeline
    for module in (run, memory):  # the modules that start fresh processes
        monkeypatch.setattr(module, "in_fresh_process", lambda function, *args: function(*args))
    settings = BenchmarkSettings(
        repetitions=1,
        min_words=600,
        long_note_words=400,
        short_note_words=50,
        batch_sizes=(1, 4),
        tuning_words=200,
        peer_steps=3,
        training_steps=2,
        limit_batch_wordpieces=1024,
        multitask_model=model,
    )
    results = run_benchmark(model, train, test, settings)
    texts = results["texts"]
    assert texts["corpus_words"] >= 600 and texts["long_note_words"] >= 400 and texts["short_note_words"] >= 50
    for system in ("ours", "quantized", "spacy_stock", "hf_pipeline", "limit", "replay"):
        assert results["inference"][system]["words_per_second"] > 0, system
    assert results["inference"]["ours"]["batch_size"] in (1, 4)
    limit = results["inference"]["limit"]
    assert limit["windows"] > 0 and limit["padded_wordpieces"] <= settings.limit_batch_wordpieces * limit["batches"]
    assert set(results["ratios"]) >= {"ours_to_limit", "ours_to_hf_pipeline", "ours_to_spacy_stock", "quantized_to_ours"}
    assert 0 < results["crf_share"]["median"] < 1
    for name in ("corpus", "long_note", "short_note"):
        assert results["memory"][name]["rss_peak_mib"] > 0 and results["memory"][name]["rss_after_load_mib"] > 0
    assert results["training"]["ours"]["words_per_second"] > 0
    assert results["training"]["hf_trainer"]["words_per_second"] > 0
    for system in ("ours", "quantized", "peer"):
        assert 0 <= results["accuracy"][system]["f1"] <= 1
    assert set(results["targets"]) == set(TARGETS)
    assert results["machine"]["versions"]["spacy"]
    assert results["heads"]["words"] == texts["corpus_words"]
    assert all(speed["words_per_second"] > 0 for speed in results["heads"]["words_per_second"].values())
    write_results(results, tmp_path)
    assert (tmp_path / "results.json").exists()
    assert "| ours: `nlp.pipe` |" in (tmp_path / "results.md").read_text() == results_markdown(results)


def test_limit_cuts_each_note_once_into_sorted_windows_of_at_most_512(untrained_pipeline):
    model, _, _ = untrained_pipeline
    tokenizer = spacy.load(model).get_pipe("transformer").model.tokenizer
    texts = ["aspirin 81 mg daily. " * 300, "metoprolol 25 mg PO BID", "lasix 40 mg " * 60]
    batches = limit_inputs(tokenizer, texts, batch_wordpieces=2048)
    lengths = [int(n) for batch in batches for n in batch["attention_mask"].sum(dim=1)]
    special = tokenizer.num_special_tokens_to_add()
    wordpieces = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    windows = sum(-(-n // (512 - special)) for n in wordpieces)
    assert len(lengths) == windows and sum(lengths) == sum(wordpieces) + special * windows  # once, no overlap
    assert max(lengths) <= 512 and lengths == sorted(lengths, reverse=True)
    assert all(batch["input_ids"].numel() <= 2048 or len(batch["input_ids"]) == 1 for batch in batches)

