"""The scaling benchmark of the annotation command, on a rule-based pipeline and a few notes."""

from tests.util import SAMPLE_NOTES

from tools.benchmark_annotate import repeat_notes, results_markdown, run_scaling_benchmark, same_records


def test_repeat_notes_cycles_with_unique_ids(tmp_path):
    ids = repeat_notes([SAMPLE_NOTES], tmp_path / "notes", 30)
    assert len(ids) == len(set(ids)) == 30 and ids[0] == "00000_sample_0001" and ids[12].startswith("00012_sample_0001")
    assert (tmp_path / "notes" / "00012_sample_0001.txt").read_bytes() == (SAMPLE_NOTES / "sample_0001.txt").read_bytes()


def test_same_records_compares_numbers_with_a_tolerance():
    record = {"id": "a", "entities": [{"label": "Drug", "confidence": 0.5}], "error": None}
    close = {"id": "a", "entities": [{"label": "Drug", "confidence": 0.500001}], "error": None}
    far = {"id": "a", "entities": [{"label": "Drug", "confidence": 0.6}], "error": None}
    assert same_records([record], [close]) and not same_records([record], [far])
    assert not same_records([record], [{**record, "entities": []}]) and not same_records([record], [record, record])


def test_scaling_benchmark_measures_and_checks_every_run(relation_pipeline, tmp_path):
    results = run_scaling_benchmark(str(relation_pipeline), [SAMPLE_NOTES], tmp_path, 30, [("local", 1), ("local", 2)], 4)
    plain = results["plain_pipe"]
    assert plain["notes"] == 30 and plain["words"] > 10_000 and plain["peak_rss_mib"] > 50
    for run in results["configurations"]:
        assert run["notes"] == 30 and run["failed"] == 0 and run["words"] == plain["words"]
        assert run["ids_exactly_once"] and run["same_records_as_first"] and run["worker_peak_rss_mib_max"] > 50
    table = results_markdown(results)
    assert table.count("\n| ") == 5 and "| `--backend local` (startup and model loading included) | 2 |" in table
