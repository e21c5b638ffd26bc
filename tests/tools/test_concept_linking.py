"""tools/concept_linking.py: quality on the sample's gold Drug mentions, speed on a generated vocabulary."""

import csv

from clinical_ie.pipeline.concepts.vocabulary import read_vocabulary
from tools.concept_linking import EUNOMIA, generated_vocabulary, hand_check, quality, speed


def test_quality_counts_and_keeps_hand_verdicts(tmp_path):
    check = tmp_path / "check.tsv"
    first = quality(EUNOMIA, check, 0.8, seed=0)
    assert first["mentions_in_vocabulary"] > 100 and 0 < first["share_linked"] < 1 and first["hand_check"]["unjudged"] == 100
    assert "ASA" in first["not_linked_in_vocabulary"]  # Eunomia has no synonyms: the abbreviation stays uncoded
    with open(check, encoding="utf8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    rows[0]["verdict"], rows[1]["verdict"] = "wrong", "correct"
    rows[2]["verdict"], rows[2]["concept_id"] = "correct", "999"  # judged for another concept: dropped
    with open(check, "w", encoding="utf8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
    again = quality(EUNOMIA, check, 0.8, seed=0)["hand_check"]
    assert (again["wrong"], again["correct"], again["unjudged"], again["share_correct"]) == (1, 1, 98, 0.01)
    assert hand_check([], tmp_path / "empty.tsv")["share_correct"] is None


def test_generated_vocabulary_is_athena_shaped(tmp_path):
    generated_vocabulary(tmp_path, 3000, seed=0)
    vocabulary = read_vocabulary(tmp_path)
    assert len(vocabulary.names) == 3000 and len(vocabulary.concepts) > 2700
    assert {c.concept_class for c in vocabulary.concepts} == {"Ingredient", "Clinical Drug", "Branded Drug"}
    assert "lisinopril" in {c.name for c in vocabulary.concepts}


def test_speed_measures_a_small_vocabulary():
    result = speed(3000, seed=0, min_score=0.8, rapidfuzz_mentions=5)
    assert result["names"] == 3000 and result["index_bytes"] > 10_000 and result["mentions"] > 2000
    assert result["exact_matches"] <= result["linked"] and result["mentions_per_second"] > 0
