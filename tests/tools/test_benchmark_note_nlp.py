"""tools/benchmark_note_nlp.py: NOTE_NLP shard transactions timed, their row counts checked."""

import pytest

from tools.benchmark_note_nlp import markdown, sample_rows, time_writes

pytest.importorskip("duckdb")


def test_rows_of_the_sample_are_written_and_replaced(tmp_path):
    rows = sample_rows()
    assert len(rows) == 60 and all(rows) and {"note_nlp_concept_id", "snippet", "term_modifiers"} <= set(rows[0][0])
    result = time_writes(f"duckdb:///{tmp_path / 'b.db'}", notes=25, shard_size=10)
    assert result["database"] == "duckdb" and result["rows"] == sum(len(r) for r in (rows * 2)[:25])
    assert result["insert_rows_per_second"] > 0 and result["replace_rows_per_second"] > 0
    assert "| duckdb | 25 |" in markdown([result])
