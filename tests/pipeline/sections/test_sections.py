"""The clinical_sections component: header detection, section spans, span._.section,
extra headers and serialization."""

import json
from pathlib import Path

import pytest
import spacy

from clinical_ie.pipeline.tokenizer import clinical_english
from clinical_ie.pipeline.data_files import DataFileError
from clinical_ie.pipeline.sections.component import HEADERS_PATH, read_headers

SAMPLE_DIR = Path(__file__).resolve().parents[3] / "assets" / "sample" / "n2c2"


@pytest.fixture
def nlp():
    nlp = clinical_english()
    nlp.add_pipe("clinical_sections")
    return nlp


def labels(doc):
    return [section.label_ for section in doc.spans["sections"]]


@pytest.mark.parametrize(
    "header, label",
    [
        ("Chief Complaint:", "chief_complaint"),
        ("History of Present Illness:", "history_of_present_illness"),
        ("HPI:", "history_of_present_illness"),
        ("PMH:", "past_medical_history"),
        ("PMHx:", "past_medical_history"),
        ("Past Medical History:", "past_medical_history"),
        ("Medications on Admission:", "medications_on_admission"),
        ("Meds on admission:", "medications_on_admission"),
        ("Home Medications:", "medications_on_admission"),
        ("Discharge Medications:", "discharge_medications"),
        ("D/C meds:", "discharge_medications"),
        ("Medications on Discharge:", "discharge_medications"),
        ("Allergies:", "allergies"),
        ("Brief Hospital Course:", "brief_hospital_course"),
        ("Hospital Course:", "brief_hospital_course"),
        ("Discharge Instructions:", "discharge_instructions"),
        ("Followup Instructions:", "followup_instructions"),
        ("Social History:", "social_history"),
        ("SHx:", "social_history"),
        ("Family History:", "family_history"),
        ("FHx:", "family_history"),
        ("Physical Exam:", "physical_exam"),
        ("Physical Examination on Admission:", "physical_exam"),
        ("Pertinent Results:", "pertinent_results"),
        ("Discharge Diagnosis:", "discharge_diagnosis"),
        ("Discharge Condition:", "discharge_condition"),
        ("Discharge Disposition:", "discharge_disposition"),
        ("Major Surgical or Invasive Procedure:", "procedures"),
        ("Assessment and Plan:", "assessment_and_plan"),
        ("A/P:", "assessment_and_plan"),
        ("Review of Systems:", "review_of_systems"),
        ("ROS:", "review_of_systems"),
    ],
)
def test_header_variants(nlp, header, label):
    doc = nlp(f"Intro line.\n{header}\nsome text here\n")
    (section,) = doc.spans["sections"]
    assert section.label_ == label
    assert section.text.startswith(header)
    assert section.end == len(doc)


def test_case_insensitive_and_spacing(nlp):
    doc = nlp("discharge medications:\nx\nHISTORY  OF PRESENT ILLNESS :\ny\n  hpi: z")
    assert labels(doc) == ["discharge_medications", "history_of_present_illness", "history_of_present_illness"]


def test_text_after_colon_on_the_same_line(nlp):
    doc = nlp("Allergies: Penicillins / Codeine\nHPI: 72M with fever.")
    allergies, hpi = doc.spans["sections"]
    assert allergies.label_ == "allergies"
    assert allergies.text == "Allergies: Penicillins / Codeine\n"
    assert hpi.text == "HPI: 72M with fever."


def test_upper_case_header_without_colon_on_its_own_line(nlp):
    doc = nlp("DISCHARGE MEDICATIONS\nAspirin 81 mg\nDischarge Medications\nnot a header: title case without colon")
    assert labels(doc) == ["discharge_medications"]
    assert doc.spans["sections"][0].end == len(doc)


def test_headers_only_at_line_starts(nlp):
    doc = nlp("Seen for Allergies: see below. Gen: NAD. HEENT: MMM.\nThe HPI: none\nHPI is long")
    assert labels(doc) == []


def test_sections_run_to_the_next_header(nlp):
    text = "Admission Date: x\nAllergies:\nNKDA\n\nChief Complaint:\nconfusion\n"
    doc = nlp(text)
    allergies, complaint = doc.spans["sections"]
    assert allergies.start_char == text.index("Allergies")
    assert allergies.end == complaint.start
    assert complaint.end == len(doc)
    first_line = doc.char_span(0, len("Admission Date"))
    assert first_line._.section is None
    assert doc.char_span(text.index("NKDA"), text.index("NKDA") + 4)._.section == "allergies"
    assert doc.char_span(text.index("confusion"), text.index("confusion") + 9)._.section == "chief_complaint"


def test_section_extension_without_sections():
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_sections")
    doc = nlp.make_doc("Allergies: none")
    assert doc[2:3]._.section is None


def test_sample_notes_have_their_sections(nlp):
    texts = sorted(SAMPLE_DIR.glob("*/*.txt"))
    assert texts
    for path in texts:
        found = set(labels(nlp(path.read_text(encoding="utf8"))))
        assert {"allergies", "chief_complaint", "discharge_diagnosis", "followup_instructions"} <= found, path.name
        assert found & {"discharge_medications", "medications_on_admission"}, path.name


def test_extra_headers_add_and_relabel():
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "clinical_sections",
        config={"extra_headers": {"code_status": ["Code Status"], "imaging": ["Studies"]}},
    )
    doc = nlp("Code status: full\nStudies:\nCT head negative")
    assert labels(doc) == ["code_status", "imaging"]


def test_extra_headers_are_checked():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="extra_headers"):
        nlp.add_pipe("clinical_sections", config={"extra_headers": {"code_status": ["", "Code"]}})


EXTRA = {"code_status": ["Code Status"]}
TEXT = "Code Status:\nfull\nAllergies:\nnone"


def test_to_bytes_round_trip():
    source = spacy.blank("en")
    source.add_pipe("clinical_sections", config={"extra_headers": EXTRA})
    target = spacy.blank("en")
    sections = target.add_pipe("clinical_sections")
    assert labels(target(TEXT)) == ["allergies"]
    sections.from_bytes(source.get_pipe("clinical_sections").to_bytes())
    assert sections.cfg["extra_headers"] == EXTRA
    assert labels(target(TEXT)) == ["code_status", "allergies"]


def test_to_disk_round_trip(tmp_path):
    source = spacy.blank("en")
    source.add_pipe("clinical_sections", config={"extra_headers": EXTRA})
    source.to_disk(tmp_path / "pipeline")
    assert json.loads((tmp_path / "pipeline" / "clinical_sections" / "cfg").read_text()) == {"extra_headers": EXTRA}
    loaded = spacy.load(tmp_path / "pipeline")
    assert labels(loaded(TEXT)) == ["code_status", "allergies"]
    target = spacy.blank("en")
    target.add_pipe("clinical_sections").from_disk(tmp_path / "pipeline" / "clinical_sections")
    assert labels(target(TEXT)) == ["code_status", "allergies"]


def test_shipped_headers_file_is_valid():
    headers = read_headers(HEADERS_PATH)
    assert headers["d/c meds"] == "discharge_medications"
    assert all(pattern == " ".join(pattern.split()) and pattern == pattern.lower() for pattern in headers)


@pytest.mark.parametrize(
    "line, problem",
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"label": "", "patterns": ["X"]}', "'label'"),
        ('{"label": "x", "patterns": []}', "'patterns'"),
        ('{"label": "x", "patterns": "HPI"}', "'patterns'"),
        ('{"label": "other", "patterns": ["Allergies"]}', "already labelled 'allergies'"),
    ],
)
def test_malformed_headers_file(tmp_path, line, problem):
    path = tmp_path / "headers.jsonl"
    path.write_text('{"label": "allergies", "patterns": ["Allergies"]}\n\n' + line + "\n", encoding="utf8")
    with pytest.raises(DataFileError, match=problem) as raised:
        read_headers(path)
    assert str(path) in str(raised.value)
    assert raised.value.line_number == 3
