"""The committed synthetic sample: reproducible, well-formed, and covering what the converters need."""

import re
from collections import Counter
from pathlib import Path

import pytest

from clinical_ie.pipeline.labels import (
    HANDOVER_OUTSIDE,
    HANDOVER_TRAINING_CATEGORIES,
    N2C2_ENTITY_LABELS,
    N2C2_RELATION_TYPES,
)
from clinical_ie.pipeline.tokenizer import PLACEHOLDER, shared_clinical_english
from tools.sample import HANDOVER_FIELDS, write_sample
from tests.util import SAMPLE_DIR

SAMPLE = SAMPLE_DIR
MIN_N2C2 = {"train": 48, "test": 12}
MIN_HANDOVER = {"train": 20, "validation": 6, "test": 6}


def _read(path: Path) -> str:
    with path.open(encoding="utf8", newline="") as handle:
        return handle.read()


def _parse_ann(text: str):
    """({id: (label, fragments, text)}, [(id, type, arg1, arg2)]) of one `.ann` file."""
    entities, relations = {}, []
    for line in text.splitlines():
        if line.startswith("T"):
            entity_id, spec, span_text = line.split("\t")
            label, offsets = spec.split(" ", 1)
            fragments = [tuple(map(int, part.split())) for part in offsets.split(";")]
            entities[entity_id] = (label, fragments, span_text)
        else:
            relation_id, spec = line.split("\t")
            rel_type, arg1, arg2 = spec.split(" ")
            relations.append((relation_id, rel_type, arg1.removeprefix("Arg1:"), arg2.removeprefix("Arg2:")))
    return entities, relations


def _first_start(entities, *ids) -> int:
    return min(entities[i][1][0][0] for i in ids)


def _last_end(entities, *ids) -> int:
    return max(entities[i][1][-1][1] for i in ids)


@pytest.fixture(scope="module")
def notes():
    """{"split/stem": (txt, entities, relations)} of the committed n2c2 sample."""
    return {
        f"{path.parent.name}/{path.stem}": (_read(path), *_parse_ann(_read(path.with_suffix(".ann"))))
        for path in sorted(SAMPLE.glob("n2c2/*/*.txt"))
    }


def test_regenerates_byte_for_byte(tmp_path):
    write_sample(tmp_path, seed=0)
    generated = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {p.relative_to(SAMPLE): p.read_bytes() for p in SAMPLE.rglob("*") if p.is_file()}
    assert sorted(generated) == sorted(committed)
    assert [path for path in generated if generated[path] != committed[path]] == []


def test_n2c2_counts_and_layout(notes):
    for split, minimum in MIN_N2C2.items():
        stems = [key for key in notes if key.startswith(split + "/")]
        assert len(stems) >= minimum
        assert all(re.fullmatch(r"sample_\d{4}", key.split("/")[1]) for key in stems)
        assert all((SAMPLE / "n2c2" / f"{key}.ann").exists() for key in stems)
    assert max(len(txt.split()) for txt, _, _ in notes.values()) >= 3000
    assert sum("\r\n" in txt for txt, _, _ in notes.values()) == 1


def test_ann_text_matches_offsets(notes):
    for key, (txt, entities, _) in notes.items():
        for entity_id, (label, fragments, span_text) in entities.items():
            assert label in N2C2_ENTITY_LABELS, (key, entity_id)
            assert all(0 <= start < end <= len(txt) for start, end in fragments), (key, entity_id)
            assert not any(re.search(r"[\r\n]", txt[s:e]) for s, e in fragments), (key, entity_id)
            assert " ".join(txt[s:e] for s, e in fragments) == span_text, (key, entity_id)


def test_relations_well_formed(notes):
    for key, (_, entities, relations) in notes.items():
        for relation_id, rel_type, arg1, arg2 in relations:
            assert rel_type in N2C2_RELATION_TYPES, (key, relation_id)
            assert arg1 in entities and arg2 in entities, (key, relation_id)
            assert f"{entities[arg1][0]}-{entities[arg2][0]}" == rel_type, (key, relation_id)


def test_n2c2_covers_labels_and_hard_cases(notes):
    labels, types = Counter(), Counter()
    discontinuous = ade_reason_overlap = form_in_drug = cross_line = 0
    for txt, entities, relations in notes.values():
        labels.update(label for label, _, _ in entities.values())
        types.update(rel_type for _, rel_type, _, _ in relations)
        discontinuous += sum(len(fragments) > 1 for _, fragments, _ in entities.values())
        spans = {(label, tuple(fragments)) for label, fragments, _ in entities.values()}
        ade_reason_overlap += sum(("Reason", f) in spans for label, f in spans if label == "ADE")
        drugs = [fragments[0] for label, fragments, _ in entities.values() if label == "Drug"]
        form_in_drug += sum(
            any(ds <= fragments[0][0] and fragments[-1][1] <= de and (ds, de) != fragments[0] for ds, de in drugs)
            for label, fragments, _ in entities.values() if label == "Form")
        cross_line += sum(
            "\n" in txt[_first_start(entities, a, b):_last_end(entities, a, b)]
            for _, rel_type, a, b in relations if rel_type == "Reason-Drug"
        )
    assert set(labels) == set(N2C2_ENTITY_LABELS)
    assert set(types) == set(N2C2_RELATION_TYPES)
    assert discontinuous >= 5 and ade_reason_overlap >= 3 and form_in_drug >= 3 and cross_line >= 3


HEADER_LINE = re.compile(r"(Admission Date|Date of Birth|Attending):|Please follow up with your PCP|\S+ \d\d:\d\dAM BLOOD")
"""Lines that held placeholders before running text did: header, follow-up and lab lines."""

PLACEHOLDER_KINDS = {
    "date": re.compile(r"\[\*\*\d{4}-\d{1,2}-\d{1,2}\*\*\]"),
    "hospital": re.compile(r"\[\*\*Hospital"),
    "name": re.compile(r"\[\*\*(Last Name|First Name|Known lastname)"),
    "phone": re.compile(r"\[\*\*Telephone/Fax"),
}


def _line_of(txt: str, start: int) -> str:
    return txt[txt.rfind("\n", 0, start) + 1:].split("\n", 1)[0]


def test_placeholders_in_running_text(notes):
    kinds, glued_to_punctuation, glued_to_word = Counter(), 0, 0
    notes_with_running_placeholders, mimic_iv_notes = 0, []
    for key, (txt, _, _) in notes.items():
        running = [m for m in PLACEHOLDER.finditer(txt) if not HEADER_LINE.match(_line_of(txt, m.start()))]
        notes_with_running_placeholders += bool(running)
        for match in running:
            kinds.update(kind for kind, pattern in PLACEHOLDER_KINDS.items() if pattern.match(match.group()))
            before, after = txt[match.start() - 1], txt[match.end():match.end() + 1]
            glued_to_punctuation += before == "(" or after in {".", ",", ")"}
            glued_to_word += before.isalpha()
        if "___" in txt:
            mimic_iv_notes.append(key)
            assert "[**" not in txt, key
    assert notes_with_running_placeholders >= 0.75 * len(notes)
    assert all(kinds[kind] >= 5 for kind in PLACEHOLDER_KINDS), kinds
    assert glued_to_punctuation >= 5 and glued_to_word >= 1
    assert 1 <= len(mimic_iv_notes) <= 2


def test_placeholders_next_to_entities_are_one_token_and_align(notes):
    tokenizer = shared_clinical_english().tokenizer
    next_to_entity = 0
    for key, (txt, entities, _) in notes.items():
        doc = tokenizer(txt)
        placeholders = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(txt)]
        for start, end in placeholders:
            span = doc.char_span(start, end)
            assert span is not None and len(span) == 1, (key, start)
        for label, fragments, _ in entities.values():
            for start, end in fragments:
                if any(0 <= p_start - end <= 1 or 0 <= start - p_end <= 1 for p_start, p_end in placeholders):
                    next_to_entity += 1
                    assert doc.char_span(start, end) is not None, (key, label, start)
    assert next_to_entity >= 5


def test_handover_files():
    categories = Counter()
    endings = set()
    for split, minimum in MIN_HANDOVER.items():
        paths = sorted((SAMPLE / "handover" / split).glob("*.txt"))
        assert len(paths) >= minimum
        for path in paths:
            assert re.fullmatch(r"output\d+\.txt", path.name)
            text = _read(path)
            endings.add(text.endswith("\n\n"))
            assert "\n\n\n" not in text and not text.startswith("\n")
            for line in text.splitlines():
                if line:
                    fields = line.split("\t")
                    assert len(fields) == HANDOVER_FIELDS, (path.name, line)
                    assert all(fields), (path.name, line)
                    categories[fields[-2]] += 1
    allowed = {HANDOVER_OUTSIDE, *HANDOVER_TRAINING_CATEGORIES}
    assert set(categories) <= allowed
    assert len(set(categories) - {HANDOVER_OUTSIDE}) >= 20
    assert {"PatientIntroduction_Lastname", "PatientIntroduction_Ageinyears", "MyShift_Status",
            "Medication_Medicine", "Medication_Dosage", "Future_Alert/Warning/AbnormalResult",
            "Appointment/Procedure_Day", HANDOVER_OUTSIDE} <= set(categories)
    assert endings == {True, False}


def test_readme_says_synthetic():
    readme = _read(SAMPLE / "README.md")
    assert "synthetic" in readme.lower() and "python -m tools.sample" in readme
