"""The clinical_context component: scopes, triggers, sections, any pipeline,
configuration, serialization and data-file errors."""

import json

import pytest
import spacy
from spacy.tokens import Span

import clinical_ie.pipeline.sections  # noqa: F401  (registers clinical_sections)
from clinical_ie.pipeline.tokenizer import clinical_english
from clinical_ie.pipeline.context.algorithm import TriggerMatch, resolve_overlaps, scope_boundaries
from clinical_ie.pipeline.context.triggers import TRIGGERS_PATH, TriggerRule, parse_extra_triggers, read_triggers
from clinical_ie.pipeline.data_files import DataFileError

KEY = "KEY"


def blank_context(**config):
    """A blank English pipeline with only clinical_context on doc.spans["KEY"]."""
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_context", config={"spans_key": KEY, **config})
    return nlp


def clinical_pipeline(**config):
    nlp = clinical_english()
    nlp.add_pipe("clinical_sections")
    nlp.add_pipe("clinical_context", config={"spans_key": KEY, **config})
    return nlp


def annotate(nlp, text, mentions):
    """Run ``nlp``'s components on ``text`` with ``mentions`` ((substring, label), the
    first occurrence after the previous mention) in doc.spans["KEY"]; returns
    {substring: (assertion, med_status)}."""
    doc = nlp.make_doc(text)
    spans, offset = [], 0
    for substring, label in mentions:
        start = text.index(substring, offset)
        offset = start + len(substring)
        span = doc.char_span(start, offset, label=label)
        assert span is not None, substring
        spans.append(span)
    doc.spans[KEY] = spans
    for _, component in nlp.pipeline:
        doc = component(doc)
    return {span.text: (span._.assertion, span._.med_status) for span in doc.spans[KEY]}


@pytest.fixture(scope="module")
def blank():
    return blank_context()


@pytest.fixture(scope="module")
def clinical():
    return clinical_pipeline()


def test_issue_examples_differ(clinical):
    assert annotate(clinical, "Stop lisinopril due to cough.", [("lisinopril", "Drug"), ("cough", "Problem")]) == {
        "lisinopril": ("present", "discontinued"),
        "cough": ("present", None),
    }
    assert annotate(clinical, "No lisinopril.", [("lisinopril", "Drug")]) == {"lisinopril": ("absent", "absent")}
    assert annotate(clinical, "Allergic to lisinopril.", [("lisinopril", "Drug")]) == {
        "lisinopril": ("present", "allergy")
    }


def test_blank_pipeline_without_sentences_or_sections(blank):
    text = "No fever. Cough and chest pain\nPossible pneumonia; lisinopril held"
    result = annotate(
        blank,
        text,
        [("fever", "Problem"), ("Cough", "Problem"), ("chest pain", "Problem"), ("pneumonia", "Problem"), ("lisinopril", "Drug")],
    )
    assert result == {
        "fever": ("absent", None),
        "Cough": ("present", None),
        "chest pain": ("present", None),
        "pneumonia": ("possible", None),
        "lisinopril": ("present", "held"),
    }


def test_doc_ents_by_default():
    nlp = spacy.blank("en")
    nlp.add_pipe("clinical_context")
    doc = nlp.make_doc("Denies chest pain, takes aspirin")
    doc.ents = [Span(doc, 1, 3, "Problem"), Span(doc, 5, 6, "Drug")]
    doc = nlp.get_pipe("clinical_context")(doc)
    assert [(e._.assertion, e._.med_status) for e in doc.ents] == [("absent", None), ("present", "active")]


def test_spans_at_the_same_offsets_keep_their_own_values(blank):
    """The data model stores assertion and status per offsets and label: a Drug and a Problem
    at the same offsets each keep theirs, whichever is written last."""
    for labels in (("Drug", "Problem"), ("Problem", "Drug")):
        doc = blank.make_doc("She is no longer taking digoxin")
        doc.spans[KEY] = [Span(doc, 5, 6, label) for label in labels]
        doc = blank.get_pipe("clinical_context")(doc)
        values = {span.label_: (span._.assertion, span._.med_status) for span in doc.spans[KEY]}
        assert values == {"Drug": ("present", "discontinued"), "Problem": ("present", None)}


def test_missing_spans_key_is_no_op(blank):
    doc = blank("No fever")
    assert KEY not in doc.spans


@pytest.mark.parametrize(
    "text, mentions, expected",
    [
        ("No rash but mild pruritus.", ["rash", "pruritus"], ["absent", "present"]),
        ("No edema; however, JVD to the jaw.", ["edema", "JVD"], ["absent", "present"]),
        ("Denies fever; c/o sore throat.", ["fever", "sore throat"], ["absent", "present"]),
        ("No complaints aside from fatigue.", ["fatigue"], ["present"]),
        ("No hypotension secondary to nitroglycerin.", ["hypotension", "nitroglycerin"], ["absent", "present"]),
    ],
)
def test_termination(blank, text, mentions, expected):
    result = annotate(blank, text, [(m, "Problem") for m in mentions])
    assert [result[m][0] for m in mentions] == expected


@pytest.mark.parametrize(
    "text, mention, expected",
    [
        ("No increase in dyspnea.", "dyspnea", "present"),
        ("Not only anemia was noted.", "anemia", "present"),
        ("No change in rash.", "rash", "present"),
        ("Gram negative rods grew.", "rods", "present"),
        ("Tolerated diet without difficulty.", "diet", "present"),
        ("Without difficulty, no rash.", "rash", "absent"),
    ],
)
def test_pseudo_triggers(blank, text, mention, expected):
    assert annotate(blank, text, [(mention, "Problem")])[mention][0] == expected


@pytest.mark.parametrize(
    "text, mention, expected",
    [
        ("Pneumonia was ruled out.", "Pneumonia", "absent"),
        ("DVT and PE were ruled out.", "DVT", "absent"),
        ("Endocarditis is unlikely.", "Endocarditis", "possible"),
        ("Small bowel obstruction cannot be excluded.", "Small bowel obstruction", "possible"),
        ("Sulfa allergy noted.", "Sulfa", "present"),
    ],
)
def test_backward_triggers(blank, text, mention, expected):
    assert annotate(blank, text, [(mention, "Problem")])[mention][0] == expected


@pytest.mark.parametrize(
    "text, mention, expected",
    [
        ("h/o MI", "MI", "historical"),
        ("s/p CABG", "CABG", "historical"),
        ("Admitted to r/o MI", "MI", "possible"),
        ("Pt c/o abdominal pain", "abdominal pain", "present"),
        ("Tachycardic w/o chest pain", "chest pain", "absent"),
        ("Mother had breast cancer", "breast cancer", "family"),
        ("Diabetes in his father", "Diabetes", "family"),
        ("No family history of colon cancer", "colon cancer", "absent"),
        ("Return if you develop chest pain", "chest pain", "hypothetical"),
    ],
)
def test_assertion_abbreviations_and_categories(clinical, text, mention, expected):
    assert annotate(clinical, text, [(mention, "Problem")])[mention][0] == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Lisinopril d/c'd.", "discontinued"),
        ("Lisinopril d/ced.", "discontinued"),
        ("Lisinopril dc'd.", "discontinued"),
        ("Lisinopril was stopped due to cough.", "discontinued"),
        ("She was taken off Lisinopril.", "discontinued"),
        ("Lisinopril held for AKI.", "held"),
        ("Holding Lisinopril.", "held"),
        ("Will start Lisinopril.", "planned"),
        ("Consider starting Lisinopril.", "planned"),
        ("Lisinopril 10 mg daily prn.", "conditional"),
        ("Lisinopril 10 mg p.o. q.d. p.r.n. headache", "conditional"),
        ("Lisinopril 10 mg daily if SBP > 100.", "conditional"),
        ("Lisinopril 10 mg daily, hold for SBP<100", "conditional"),
        ("Denies taking Lisinopril.", "absent"),
        ("Patient refused Lisinopril.", "absent"),
        ("She is no longer taking Lisinopril.", "discontinued"),
        ("Continue Lisinopril.", "active"),
        ("Lisinopril 10 mg daily.", "active"),
        ("Pt will d/c home on Lisinopril.", "active"),
    ],
)
def test_medication_status_triggers(clinical, text, expected):
    assert annotate(clinical, text, [("Lisinopril", "Drug")])["Lisinopril"][1] == expected


def test_planned_medication_is_hypothetical_and_conditional_one_present(clinical):
    result = annotate(clinical, "Will start amiodarone. If pain persists, take oxycodone.", [("amiodarone", "Drug"), ("oxycodone", "Drug")])
    assert result == {"amiodarone": ("hypothetical", "planned"), "oxycodone": ("present", "conditional")}


def test_stop_one_start_another(clinical):
    result = annotate(clinical, "We stopped amlodipine and started hydralazine.", [("amlodipine", "Drug"), ("hydralazine", "Drug")])
    assert result == {"amlodipine": ("present", "discontinued"), "hydralazine": ("present", "active")}


def test_each_list_line_is_its_own_scope(clinical):
    text = "Physical Exam:\n- no murmurs\n- crackles at bases\n* edema\n1. rash"
    result = annotate(clinical, text, [(m, "Problem") for m in ("murmurs", "crackles", "edema", "rash")])
    assert [result[m][0] for m in ("murmurs", "crackles", "edema", "rash")] == ["absent", "present", "present", "present"]


@pytest.mark.parametrize(
    "text, negated",
    [
        ("No rash. Fever", False),
        ("No rash! Fever", False),
        ("No rash? Fever", False),
        ("No fever after 2.5 mg Fever", True),
        ("No rash per Dr. Fever", True),
        ("No aspirin 81 mg q.d. Fever", False),
        ("No aspirin 81 mg q.d. fever", True),
    ],
)
def test_sentence_punctuation_without_sentence_starts(blank, text, negated):
    mention = "Fever" if "Fever" in text else "fever"
    assert (annotate(blank, text, [(mention, "Problem")])[mention][0] == "absent") == negated


def test_doc_sentence_starts_end_scopes():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer", config={"punct_chars": [","]})
    nlp.add_pipe("clinical_context", config={"spans_key": KEY})
    result = annotate(nlp, "No fever, chills", [("fever", "Problem"), ("chills", "Problem")])
    assert result == {"fever": ("absent", None), "chills": ("present", None)}
    assert annotate(blank_context(), "No fever, chills", [("chills", "Problem")]) == {"chills": ("absent", None)}


def test_max_scope():
    text = "No fever , a , b , c , d , e , chills"
    mentions = [("fever", "Problem"), ("chills", "Problem")]
    assert annotate(blank_context(max_scope=4), text, mentions)["chills"][0] == "present"
    assert annotate(blank_context(max_scope=30), text, mentions)["chills"][0] == "absent"
    with pytest.raises(ValueError, match="max_scope"):
        blank_context(max_scope=0)


def test_allergy_section_carry_over(clinical):
    text = "Allergies:\nPenicillins\nSulfa (rash)\nDischarge Medications:\n1. Aspirin 81 mg daily\n2. Tylenol 650 mg q6h prn"
    result = annotate(clinical, text, [(m, "Drug") for m in ("Penicillins", "Sulfa", "Aspirin", "Tylenol")])
    assert [result[m][1] for m in ("Penicillins", "Sulfa", "Aspirin", "Tylenol")] == ["allergy", "allergy", "active", "conditional"]


def test_nkda_cancels_the_allergy_section_default(clinical):
    assert annotate(clinical, "Allergies: NKDA. Takes aspirin daily.", [("aspirin", "Drug")])["aspirin"][1] == "active"
    assert annotate(clinical, "Allergies: aspirin", [("aspirin", "Drug")])["aspirin"][1] == "allergy"


def test_family_and_past_history_sections(clinical):
    text = "Past Medical History:\n- COPD\nFamily History:\nMother - HTN\nno diabetes"
    result = annotate(clinical, text, [(m, "Problem") for m in ("COPD", "HTN", "diabetes")])
    assert [result[m][0] for m in ("COPD", "HTN", "diabetes")] == ["historical", "family", "absent"]


def test_headers_are_not_triggers(clinical):
    text = "History of Present Illness: 72M with fever."
    assert annotate(clinical, text, [("fever", "Problem")])["fever"][0] == "present"


def test_without_sections_component():
    nlp = clinical_english()
    nlp.add_pipe("clinical_context", config={"spans_key": KEY})
    text = "Allergies:\nPenicillins"
    assert annotate(nlp, text, [("Penicillins", "Drug")])["Penicillins"] == ("present", "active")


def test_section_defaults_are_configurable():
    nlp = clinical_pipeline(section_statuses={"discharge_medications": "planned"}, section_assertions={"family_history": "present"})
    text = "Discharge Medications:\nAspirin\nFamily History:\nHTN"
    assert annotate(nlp, text, [("Aspirin", "Drug"), ("HTN", "Problem")]) == {
        "Aspirin": ("hypothetical", "planned"),
        "HTN": ("present", None),
    }
    with pytest.raises(ValueError, match="section_statuses"):
        clinical_pipeline(section_statuses={"allergies": "allergic"})


def test_any_label_and_configurable_medication_labels(clinical):
    result = annotate(clinical, "Denies pain. CT negative for PE. Held heparin.", [("pain", "Problem"), ("CT", "Test"), ("PE", "Problem"), ("heparin", "Treatment")])
    assert result == {"pain": ("absent", None), "CT": ("present", None), "PE": ("absent", None), "heparin": ("present", None)}
    nlp = clinical_pipeline(med_labels=["Drug", "Treatment"])
    assert annotate(nlp, "Held heparin.", [("heparin", "Treatment")])["heparin"] == ("present", "held")


NEW_TRIGGERS = [
    {"category": "negated_existence", "direction": "forward", "phrases": ["zero evidence for"]},
    {"category": "held", "direction": "backward", "phrases": ["paused"]},
]
TEXT = "Zero evidence for PE. Heparin paused."
MENTIONS = [("PE", "Problem"), ("Heparin", "Drug")]


def test_extra_triggers(blank):
    assert annotate(blank, TEXT, MENTIONS) == {"PE": ("present", None), "Heparin": ("present", "active")}
    assert annotate(blank_context(extra_triggers=NEW_TRIGGERS), TEXT, MENTIONS) == {
        "PE": ("absent", None),
        "Heparin": ("present", "held"),
    }


def test_to_bytes_round_trip():
    source = blank_context(extra_triggers=NEW_TRIGGERS)
    target = blank_context()
    context = target.get_pipe("clinical_context")
    context.from_bytes(source.get_pipe("clinical_context").to_bytes())
    assert context.cfg["extra_triggers"] == NEW_TRIGGERS
    assert annotate(target, TEXT, MENTIONS)["PE"] == ("absent", None)
    whole = blank_context().from_bytes(source.to_bytes())
    assert annotate(whole, TEXT, MENTIONS) == {"PE": ("absent", None), "Heparin": ("present", "held")}


def test_to_disk_round_trip(tmp_path):
    source = clinical_pipeline(extra_triggers=NEW_TRIGGERS)
    source.to_disk(tmp_path / "pipeline")
    cfg = json.loads((tmp_path / "pipeline" / "clinical_context" / "cfg").read_text())
    assert cfg == {"extra_triggers": NEW_TRIGGERS}
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.pipe_names == ["clinical_sections", "clinical_context"]
    assert annotate(loaded, TEXT, MENTIONS) == {"PE": ("absent", None), "Heparin": ("present", "held")}
    target = blank_context()
    target.get_pipe("clinical_context").from_disk(tmp_path / "pipeline" / "clinical_context")
    assert annotate(target, TEXT, MENTIONS)["Heparin"] == ("present", "held")


def test_shipped_triggers_file_is_valid():
    groups = read_triggers(TRIGGERS_PATH)
    phrases = {phrase for group in groups for phrase in group.phrases}
    assert {"d/c'd", "d/ced", "dc'd", "nkda", "s/p", "h/o", "r/o", "c/o", "w/o", "prn", "p.r.n."} <= phrases


@pytest.mark.parametrize(
    "line, problem",
    [
        ("{oops", "not valid JSON"),
        ('{"category": "negated", "direction": "forward", "phrases": ["no"]}', "unknown category 'negated'"),
        ('{"category": "held", "phrases": ["hold"]}', "needs a 'direction'"),
        ('{"category": "held", "direction": "sideways", "phrases": ["hold"]}', "needs a 'direction'"),
        ('{"category": "terminate", "direction": "forward", "phrases": ["but"]}', "takes no 'direction'"),
        ('{"category": "terminate", "axis": "both", "phrases": ["but"]}', "'axis' must be one of"),
        ('{"category": "held", "direction": "forward", "axis": "status", "phrases": ["hold"]}', "'axis' is only for"),
        ('{"category": "held", "direction": "forward", "phrases": []}', "'phrases'"),
        ('{"category": "held", "direction": "forward", "phrase": ["hold"]}', "unknown field"),
    ],
)
def test_malformed_trigger_line(tmp_path, line, problem):
    path = tmp_path / "triggers.jsonl"
    path.write_text('{"category": "terminate", "phrases": ["but"]}\n' + line + "\n", encoding="utf8")
    with pytest.raises(DataFileError, match=problem) as raised:
        read_triggers(path)
    assert str(path) in str(raised.value) and "line 2" in str(raised.value)


def test_malformed_extra_trigger():
    with pytest.raises(ValueError, match=r"extra_triggers\[1\]: unknown category"):
        parse_extra_triggers([{"category": "terminate", "phrases": ["but"]}, {"category": "nope", "phrases": ["x"]}])
    with pytest.raises(ValueError, match=r"extra_triggers\[0\]"):
        blank_context(extra_triggers=[{"category": "held", "phrases": ["x"]}])


def test_scope_boundaries():
    words = ["No", "rash", ".", "Fever", "\n", "-", "cough", "q.d.", "then", "Dr.", "Smith"]
    spaces = [True, False, True, True, False, True, True, True, True, True, False]
    assert scope_boundaries(words, spaces) == [0, 3, 4, 5]
    assert scope_boundaries(words, spaces, sentence_starts=[6], extra_boundaries=[9]) == [0, 3, 4, 5, 6, 9]


def test_resolve_overlaps_keeps_longest_and_drops_pseudo():
    negation = TriggerRule("negated_existence", "forward", frozenset({"assertion"}))
    discontinued = TriggerRule("discontinued", "bidirectional", frozenset({"status"}))
    pseudo = TriggerRule("pseudo", None, frozenset({"assertion", "status"}))
    matches = [
        TriggerMatch(0, 1, negation),  # "no" inside "no longer taking"
        TriggerMatch(0, 3, discontinued),
        TriggerMatch(5, 6, negation),  # "no" inside pseudo "no increase in"
        TriggerMatch(5, 8, pseudo),
        TriggerMatch(9, 10, negation),
    ]
    assert resolve_overlaps(matches) == [TriggerMatch(0, 3, discontinued), TriggerMatch(9, 10, negation)]


@pytest.mark.parametrize(
    "text, mentions, expected",
    [
        # post-position negation
        ("A pneumothorax was not seen.", ["pneumothorax"], ["absent"]),
        ("The left ureter was not visualized.", ["ureter"], ["absent"]),
        ("Hydronephrosis has been excluded.", ["Hydronephrosis"], ["absent"]),
        # speculation cues of radiology and biomedical writing (BioScope's)
        ("Opacity consistent with pneumonia.", ["pneumonia"], ["possible"]),
        ("The density may represent atelectasis.", ["atelectasis"], ["possible"]),
        ("Findings suggestive of viral illness.", ["viral illness"], ["possible"]),
        ("A urinoma cannot be completely excluded.", ["urinoma"], ["possible"]),
        # a speculation inside a negation's scope is negated
        ("No focal infiltrate to suggest pneumonia.", ["infiltrate", "pneumonia"], ["absent", "absent"]),
        ("The kidney does not appear enlarged.", ["enlarged"], ["absent"]),
        # scopes over coordinated lists, both directions
        ("No fever, chills, or night sweats.", ["fever", "chills", "night sweats"], ["absent"] * 3),
        ("Lack of edema, ascites and effusion.", ["edema", "ascites", "effusion"], ["absent"] * 3),
        ("Fever, chills and rigors were ruled out.", ["Fever", "chills", "rigors"], ["absent"] * 3),
    ],
)
def test_real_text_cues(blank, text, mentions, expected):
    found = annotate(blank, text, [(m, "Problem") for m in mentions])
    assert [found[m][0] for m in mentions] == expected
