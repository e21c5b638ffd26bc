"""Annotation runs with the local backend: one record per note, bad notes, resuming, privacy."""

import json
import logging
import os
import subprocess

import pytest
import spacy
from spacy.language import Language

from clinical_ie.annotate import OutputError, read_annotations, run_annotation
from clinical_ie.annotate.inputs import scan_input
from clinical_ie.annotate.output import ShardedOutput
from clinical_ie.annotate.run import model_identity
from clinical_ie.corpora.brat import parse_ann
from clinical_ie.corpora.conversion_report import ConversionReport
from clinical_ie.pipeline.base import default_model_config
from clinical_ie.pipeline.crf_ner.model import DEFAULT_CRF_MODEL
from tests.util import (
    BAD_NOTES, MAX_CHARS, SECRET, annotate_command, copied_notes, folder_notes, kill_once_a_shard_is_listed, listening, manifest,
    small_settings, transformer_pipeline_config,
)

def comparable(records):
    """Records with the detail of 'not UTF-8' errors dropped (a byte offset in a file, a
    character offset in a JSON line)."""
    return [{**r, "error": "not UTF-8"} if (r["error"] or "").startswith("not UTF-8") else r for r in records]


@pytest.fixture(scope="module")
def reference(relation_pipeline, notes_dir, tmp_path_factory):
    """Records of an uninterrupted in-process run over ``notes_dir``."""
    output = tmp_path_factory.mktemp("reference")
    run_annotation(relation_pipeline, notes_dir, output, small_settings())
    return list(read_annotations(output))


def test_every_note_gets_exactly_one_record(relation_pipeline, notes_dir, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        summary = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings())
    records = list(read_annotations(tmp_path))
    assert [r["id"] for r in records] == [note_id for note_id, _ in folder_notes(notes_dir)]
    errors = {r["id"]: r["error"] for r in records if r["error"]}
    assert set(errors) == set(BAD_NOTES)
    for note_id, (_, reason) in BAD_NOTES.items():
        assert errors[note_id].startswith(reason)
    assert all(r["entities"] == [] and r["medications"] == [] for r in records if r["error"])
    bom = next(r for r in records if r["id"] == "bom")
    assert [(e["label"], e["text"], e["start"]) for e in bom["entities"]] == [("Drug", "Aspirin", 26), ("Strength", "81 mg", 34)]
    assert bom["medications"][0]["attributes"]["strength"][0]["text"] == "81 mg"
    assert sum(len(r["entities"]) for r in records) > 50  # the sample notes name many drugs
    assert (summary.notes, summary.notes_annotated, summary.notes_failed) == (17, 13, 4)
    assert summary.complete and summary.shards_written == summary.shards_total == 4 and summary.words > 5000
    saved = manifest(tmp_path)
    assert [(e["part"], e["start"], e["end"], e["records"]) for e in saved["shards"]] == [
        ("part-00000.jsonl", 0, 5, 5), ("part-00001.jsonl", 5, 10, 5), ("part-00002.jsonl", 10, 15, 5), ("part-00003.jsonl", 15, 17, 2)
    ]
    assert sum(e["errors"] for e in saved["shards"]) == 4 and saved["complete"] and saved["input"]["notes"] == 17
    assert str(notes_dir) not in json.dumps(saved)  # no input path in the manifest
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("annotated 17 of 17 notes (100.0%)") for m in messages)
    assert any(m == "note latin1 not annotated: not UTF-8 (byte 11)" for m in messages)
    assert not any(SECRET in m or any(trigram in m for trigram in note_trigrams(notes_dir)) for m in messages)


def note_trigrams(notes_dir) -> set:
    """Every run of three words of the notes."""
    trigrams = set()
    for _, data in folder_notes(notes_dir):
        words = data.decode("utf8", "replace").split()
        trigrams.update(" ".join(words[i : i + 3]) for i in range(len(words) - 2))
    return trigrams


@pytest.mark.parametrize("form", ["jsonl", "parquet"])
def test_every_input_form_gives_the_same_records(form, relation_pipeline, notes_jsonl, notes_parquet, reference, tmp_path):
    path = notes_jsonl if form == "jsonl" else notes_parquet
    run_annotation(relation_pipeline, path, tmp_path, small_settings(output_format=form))
    assert sorted(tmp_path.glob("part-*")) and all(p.suffix == f".{form}" for p in tmp_path.glob("part-*"))
    assert comparable(read_annotations(tmp_path)) == comparable(reference)


def test_worker_processes_give_the_same_records(relation_pipeline, notes_dir, reference, tmp_path):
    summary = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(workers=2))
    assert list(read_annotations(tmp_path)) == reference
    assert 1 <= len(summary.worker_peak_rss_mib) <= 2 and str(os.getpid()) not in summary.worker_peak_rss_mib


@Language.component("fail_on_secret")
def fail_on_secret(doc):
    if SECRET.split()[1] in doc.text:
        raise ValueError(f"cannot annotate {doc.text!r}")
    return doc


def test_a_model_error_is_the_note_record_and_the_run_goes_on(relation_pipeline, notes_dir, reference, tmp_path, caplog):
    nlp = spacy.load(relation_pipeline)
    nlp.add_pipe("fail_on_secret")
    with caplog.at_level(logging.INFO):
        summary = run_annotation(nlp, notes_dir, tmp_path, small_settings())
    records = list(read_annotations(tmp_path))
    assert [r for r in records if r["id"] == "bom"] == [
        {"id": "bom", "entities": [], "medications": [], "error": "model error: ValueError"}
    ]
    assert [r for r in records if r["id"] != "bom"] == [r for r in reference if r["id"] != "bom"]
    assert summary.notes_failed == 5 and not any(SECRET in r.getMessage() for r in caplog.records)


def test_max_shards_then_rerun_finishes(relation_pipeline, notes_dir, reference, tmp_path):
    first = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(max_shards=2))
    assert not first.complete and first.shards_written == 2
    assert [(e["start"], e["end"]) for e in manifest(tmp_path)["shards"]] == [(0, 5), (5, 10)]
    with pytest.raises(OutputError, match="2 of 4 shards"):
        list(read_annotations(tmp_path))
    assert [r["id"] for r in read_annotations(tmp_path, allow_incomplete=True)] == [r["id"] for r in reference[:10]]
    second = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings())
    assert second.complete and second.notes_done_before == 10 and second.shards_written == 2
    assert second.notes_annotated + second.notes_failed == 7
    assert list(read_annotations(tmp_path)) == reference


def test_a_damaged_shard_is_annotated_again(relation_pipeline, notes_dir, reference, tmp_path, caplog):
    run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings())
    part = tmp_path / "part-00001.jsonl"
    part.write_bytes(part.read_bytes()[:100])
    (tmp_path / "part-00002.jsonl").unlink()
    with caplog.at_level(logging.WARNING):
        summary = run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings())
    assert summary.shards_written == 2 and summary.notes_done_before == 7
    assert "shard part-00001.jsonl is missing or damaged: it will be annotated again" in caplog.text
    assert list(read_annotations(tmp_path)) == reference


def test_an_output_folder_of_another_run_is_refused(relation_pipeline, notes_dir, notes_jsonl, tmp_path):
    run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(max_shards=1))
    with pytest.raises(OutputError, match="different input"):
        run_annotation(relation_pipeline, notes_jsonl, tmp_path, small_settings())
    with pytest.raises(OutputError, match="different shard_size"):
        run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(shard_size=4))
    with pytest.raises(OutputError, match="different format"):
        run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(output_format="parquet"))
    with ShardedOutput(tmp_path, scan_input(notes_dir), model_identity(relation_pipeline), shard_size=5, max_chars=MAX_CHARS):
        with pytest.raises(OutputError, match="another annotation run is writing to this output folder"):
            run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings())
    stray = tmp_path.parent / "stray"
    stray.mkdir()
    (stray / "part-00000.jsonl").write_text("{}\n", encoding="utf8")
    with pytest.raises(OutputError, match="no manifest.json"):
        run_annotation(relation_pipeline, notes_dir, stray, small_settings())


def test_brat_files_for_annotated_notes(relation_pipeline, notes_dir, tmp_path):
    run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(brat=True))
    brat = tmp_path / "brat"
    assert (brat / "bom.txt").read_text(encoding="utf8") == f"{SECRET} takes Aspirin 81 mg daily"
    entities, relations, _, _ = parse_ann((brat / "bom.ann").read_text(encoding="utf8"), "bom.ann", ConversionReport("brat"))
    assert [(e.label, e.fragments) for e in entities] == [("Drug", [(26, 33)]), ("Strength", [(34, 39)])]
    assert [(r.type, r.arg1, r.arg2) for r in relations] == [("Strength-Drug", "T2", "T1")]
    assert len(list(brat.glob("*.ann"))) == 13 and not any((brat / f"{name}.ann").exists() for name in BAD_NOTES)


def test_killed_run_resumes_without_losing_or_repeating_a_note(relation_pipeline, notes_dir, tmp_path):
    """SIGKILL the command once a shard is done, then rerun it: a time-boxed run, then the rest."""
    notes = copied_notes(notes_dir, tmp_path / "notes", 40)  # 680 notes, shards of 10
    output = tmp_path / "out"
    command = annotate_command(relation_pipeline, notes, output, "--shard-size", "10", "--batch-size", "2")
    killed = kill_once_a_shard_is_listed(command, output)
    done = len(killed["shards"])

    timeboxed = subprocess.run(command + ["--max-shards", "3"], capture_output=True, text=True)
    assert timeboxed.returncode == 3, timeboxed.stderr
    assert "run the same command again" in timeboxed.stderr and len(manifest(output)["shards"]) == done + 3

    finished = subprocess.run(command + ["--summary", str(tmp_path / "summary.json")], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert "annotated 680 of 680 notes (100.0%)" in finished.stderr and SECRET not in finished.stderr + finished.stdout
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf8"))
    assert summary["complete"] and summary["notes_done_before"] == 10 * (done + 3)
    records = list(read_annotations(output))
    assert [r["id"] for r in records] == sorted(path.stem for path in notes.glob("*.txt"))
    by_id = {r["id"]: r for r in reference_records(relation_pipeline, notes_dir, tmp_path)}
    assert all({**r, "id": r["id"][3:]} == by_id[r["id"][3:]] for r in records)
    assert not list(output.glob("*.partial"))


def reference_records(model, notes_dir, tmp_path):
    output = tmp_path / "reference"
    run_annotation(model, notes_dir, output, small_settings())
    return read_annotations(output)


def test_an_output_folder_of_another_confidence_threshold_is_refused(relation_pipeline, notes_dir, tmp_path):
    run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(max_shards=1))
    with pytest.raises(OutputError, match="different confidence_threshold"):
        run_annotation(relation_pipeline, notes_dir, tmp_path, small_settings(confidence_threshold=0.5))


@pytest.fixture(scope="module")
def transformer_pipeline(tiny_bert, tmp_path_factory):
    """A saved tiny-BERT transformer (clinical_ie.TransformerModel.v2) + untrained CRF head."""
    config = transformer_pipeline_config(tiny_bert, {"ner": {"factory": "clinical_crf_ner",
                                                            "model": listening(default_model_config(DEFAULT_CRF_MODEL))}},
                                         architecture="clinical_ie.TransformerModel.v2", max_batch_items=None)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    nlp.get_pipe("ner").add_label("Drug")
    nlp.initialize()
    path = tmp_path_factory.mktemp("transformer_pipeline") / "model"
    nlp.to_disk(path)
    return path


def test_quantize_runs_the_int8_encoder_and_is_kept_apart_in_the_manifest(transformer_pipeline, notes_dir, tmp_path):
    settings = small_settings(quantize=True)
    summary = run_annotation(str(transformer_pipeline), notes_dir, tmp_path / "int8", settings)
    assert summary.complete and manifest(tmp_path / "int8")["quantize"] is True
    assert len(list(read_annotations(tmp_path / "int8"))) == len(folder_notes(notes_dir))
    with pytest.raises(OutputError, match="different quantize"):
        run_annotation(str(transformer_pipeline), notes_dir, tmp_path / "int8", small_settings())
    with pytest.raises(ValueError, match="quantize"):
        run_annotation(spacy.load(transformer_pipeline), notes_dir, tmp_path / "in_process", settings)


def test_rerunning_a_finished_run_changes_nothing(relation_pipeline, notes_dir, reference, tmp_path):
    """A scheduler's retry of a finished job: nothing annotated, still complete, readable, exit 0."""
    command = annotate_command(relation_pipeline, notes_dir, tmp_path, "--shard-size", "5")
    first = subprocess.run(command, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    rerun = subprocess.run(command, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "already complete" in rerun.stdout
    assert manifest(tmp_path)["complete"] is True
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
    assert list(read_annotations(tmp_path)) == reference
