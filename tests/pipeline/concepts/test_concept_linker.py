"""clinical_concept_linker: reading Athena and RxNorm vocabularies, the index, the component."""

from pathlib import Path

import pytest
import spacy
from spacy.tokens import Span

from clinical_ie.pipeline.concepts.index import SALT_SCORE, ConceptIndex, normalize, trigrams
from clinical_ie.pipeline.concepts.vocabulary import VocabularyError, read_vocabulary
from tests.util import EUNOMIA_VOCABULARY

ATHENA_COLUMNS = ("concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id", "standard_concept",
                  "concept_code", "valid_start_date", "valid_end_date", "invalid_reason")

def write_tsv(path: Path, columns, rows) -> None:
    path.write_text("".join("\t".join(map(str, row)) + "\n" for row in [columns, *rows]), encoding="utf8")

@pytest.fixture()
def athena_with_brands(tmp_path) -> Path:
    """An Athena folder with a brand related to its ingredient, a synonym and a non-standard concept."""
    write_tsv(tmp_path / "CONCEPT.csv", ATHENA_COLUMNS, [
        (956874, "furosemide", "Drug", "RxNorm", "Ingredient", "S", "4603", "19700101", "20991231", ""),
        (19008497, "Lasix", "Drug", "RxNorm", "Brand Name", "", "202991", "19700101", "20991231", ""),
        (1307046, "metoprolol", "Drug", "RxNorm", "Ingredient", "S", "6918", "19700101", "20991231", ""),
        (40000001, "old furosemide", "Drug", "RxNorm Extension", "Ingredient", "", "OMOP1", "19700101", "20991231", ""),
        (40000002, "withdrawn", "Drug", "RxNorm", "Ingredient", "", "9", "19700101", "20991231", "D"),
        (4000003, "Furosemide", "Condition", "SNOMED", "Clinical Finding", "S", "123", "19700101", "20991231", ""),
    ])
    write_tsv(tmp_path / "CONCEPT_SYNONYM.csv", ("concept_id", "concept_synonym_name", "language_concept_id"),
              [(956874, "frusemide", 4180186)])
    write_tsv(tmp_path / "CONCEPT_RELATIONSHIP.csv",
              ("concept_id_1", "concept_id_2", "relationship_id", "valid_start_date", "valid_end_date", "invalid_reason"), [
                  (19008497, 956874, "Tradename of", "19700101", "20991231", ""),
                  (40000001, 956874, "Maps to", "19700101", "20991231", ""),
              ])
    return tmp_path

def test_the_eunomia_excerpt_keeps_its_valid_rxnorm_drugs():
    vocabulary = read_vocabulary(EUNOMIA_VOCABULARY)
    assert len(vocabulary.concepts) == 245  # 246 RxNorm concepts, one of them invalid ('U'); no UCUM unit
    assert {c.vocabulary for c in vocabulary.concepts} == {"RxNorm"}
    lisinopril = next(c for c in vocabulary.concepts if c.name == "lisinopril")
    assert (lisinopril.concept_id, lisinopril.code, lisinopril.concept_class, lisinopril.standard) == (1308216, "29046", "Ingredient", True)

def test_exact_fuzzy_and_uncoded_mentions_on_the_eunomia_excerpt():
    index = ConceptIndex.build(read_vocabulary(EUNOMIA_VOCABULARY))
    assert index.lookup("Lisinopril") == [
        {"id": 1308216, "code": "29046", "vocabulary": "RxNorm", "name": "lisinopril", "score": 1.0, "source_id": 1308216}
    ]
    assert index.lookup("sulfamethoxazole/trimethoprim")[0]["name"] == "Sulfamethoxazole / Trimethoprim"
    misspelt = index.lookup("lisinoprill")
    assert misspelt[0]["name"] == "lisinopril" and 0.8 <= misspelt[0]["score"] < 1.0
    assert index.lookup("ASA") == [] and index.lookup("Tylenol") == []
    assert index.lookup("...") == []
    ranked = index.lookup("ibuprofen 400 MG Oral Tablet", min_score=0.5)  # no such clinical drug: the branded one first
    assert ranked[0]["name"] == "ibuprofen 400 MG Oral Tablet [Ibu]" and [c["score"] for c in ranked] == sorted(
        (c["score"] for c in ranked), reverse=True
    )
    assert len(ranked) > 1 and all(c["score"] >= 0.5 for c in ranked)

@pytest.mark.parametrize("min_score", [0.5, 0.7, 0.8, 0.95])
def test_fuzzy_scores_are_the_exact_trigram_dice_of_every_name(min_score):
    """Prefix filtering skips names that cannot reach min_score, and no other."""
    index = ConceptIndex.build(read_vocabulary(EUNOMIA_VOCABULARY))
    queries = ["lisinoprill", "cefepim", "ceftriaxone 1 g", "amoxicilin clavulanate", "ibuprofen 400 mg tablet", "azithromycn"]
    for query in queries:
        grams = set(trigrams(query))
        expected = sorted(
            ((2 * len(grams & set(trigrams(key))) / (len(grams) + len(trigrams(key))), key) for key in index.keys),
            key=lambda pair: (-pair[0], index.key_ids[pair[1]]),
        )
        expected = [(round(score, 9), key) for score, key in expected if score >= min_score][:50]
        found = [(round(score, 9), index.keys[key_id]) for score, key_id in index.scored_keys(query, min_score, 50)]
        assert found == expected


def test_brands_synonyms_mappings_and_salts(athena_with_brands):
    vocabulary = read_vocabulary(athena_with_brands)
    assert [c.name for c in vocabulary.concepts] == ["furosemide", "Lasix", "metoprolol", "old furosemide"]
    index = ConceptIndex.build(vocabulary)
    lasix = index.lookup("LASIX")[0]
    assert (lasix["id"], lasix["name"], lasix["source_id"]) == (956874, "furosemide", 19008497)  # brand -> ingredient
    assert index.lookup("frusemide")[0]["id"] == 956874  # a synonym
    old = index.lookup("old furosemide")[0]
    assert (old["id"], old["source_id"]) == (956874, 40000001)  # a non-standard concept -> its standard one
    salt = index.lookup("Metoprolol Tartrate")[0]
    assert (salt["name"], salt["score"]) == ("metoprolol", SALT_SCORE)
    assert index.lookup("withdrawn") == []

def test_the_index_survives_serialization(athena_with_brands):
    index = ConceptIndex.build(read_vocabulary(EUNOMIA_VOCABULARY))
    again = ConceptIndex.from_bytes(index.to_bytes())
    for mention in ("lisinopril", "lisinoprill", "cefepim", "ceftriaxone 1 g", "nothing like a drug"):
        assert again.lookup(mention, min_score=0.5) == index.lookup(mention, min_score=0.5)

def test_rxnconso_rrf(tmp_path):
    rows = [
        ("29046", "ENG", "P", "L1", "PF", "S1", "Y", "A1", "", "", "", "RXNORM", "IN", "29046", "lisinopril", "0", "N", "4096"),
        ("29046", "ENG", "S", "L2", "VO", "S2", "N", "A2", "", "", "", "MTHSPL", "SU", "X", "LISINOPRIL", "0", "N", ""),
        ("203644", "ENG", "P", "L3", "PF", "S3", "Y", "A3", "", "", "", "RXNORM", "BN", "203644", "Zestril", "0", "N", ""),
        ("99", "ENG", "P", "L4", "PF", "S4", "Y", "A4", "", "", "", "RXNORM", "IN", "99", "gone", "0", "O", ""),
    ]
    path = tmp_path / "RXNCONSO.RRF"
    path.write_text("".join("|".join(row) + "|\n" for row in rows), encoding="utf8")
    vocabulary = read_vocabulary(path)
    assert [(c.code, c.name, c.concept_class, c.concept_id) for c in vocabulary.concepts] == [
        ("29046", "lisinopril", "Ingredient", None), ("203644", "Zestril", "Brand Name", None)
    ]
    concept = ConceptIndex.build(vocabulary).lookup("Zestril")[0]
    assert (concept["id"], concept["code"], concept["vocabulary"], concept["source_id"]) == (None, "203644", "RxNorm", None)
    path.write_text("29046|ENG|P\n", encoding="utf8")
    with pytest.raises(VocabularyError, match=r"RXNCONSO.RRF, line 1: 2 fields, expected 18"):
        read_vocabulary(path)

def test_malformed_athena_files_name_file_and_line(tmp_path):
    write_tsv(tmp_path / "CONCEPT.csv", ATHENA_COLUMNS, [(1, "a", "Drug", "RxNorm", "Ingredient", "S", "1", "", "", "")])
    with open(tmp_path / "CONCEPT.csv", "a", encoding="utf8") as handle:
        handle.write("x\tb\tDrug\tRxNorm\tIngredient\tS\t2\t\t\t\n3\tshort\n")
    with pytest.raises(VocabularyError, match=r"CONCEPT.csv, line 3: concept id 'x' is not an integer"):
        read_vocabulary(tmp_path)
    write_tsv(tmp_path / "CONCEPT.csv", ("concept_id", "concept_name"), [(1, "a")])
    with pytest.raises(VocabularyError, match=r"CONCEPT.csv, line 1: missing columns"):
        read_vocabulary(tmp_path)
    with pytest.raises(VocabularyError, match="Athena export folder"):
        read_vocabulary(tmp_path / "CONCEPT.csv")

def test_normalize():
    assert normalize("  Metoprolol-Tartrate (Lopressor®) ") == "metoprolol tartrate lopressor"
    assert normalize("ＡＳＡ") == "asa"

def drug_doc(nlp, text, drugs):
    doc = nlp.make_doc(text)
    doc.ents = [doc.char_span(text.index(drug), text.index(drug) + len(drug), label="Drug") for drug in drugs]
    return doc

def test_the_component_links_drugs_and_saves_its_index(tmp_path):
    nlp = spacy.blank("en")
    linker = nlp.add_pipe("clinical_concept_linker", config={"min_score": 0.8})
    nlp.initialize()
    unlinked = linker(drug_doc(nlp, "Lisinopril 10 mg", ["Lisinopril"]))
    assert unlinked.ents[0]._.concepts is None  # no vocabulary: nothing linked
    linker.initialize(vocabulary=EUNOMIA_VOCABULARY)
    text = "Lisinopril 10 mg daily, ASA 81 mg, cefepim 2 g IV"
    doc = nlp(drug_doc(nlp, text, ["Lisinopril", "ASA", "cefepim"]))
    lisinopril, asa, cefepime = doc.ents
    assert lisinopril._.concepts[0]["id"] == 1308216 and asa._.concepts == [] and cefepime._.concepts[0]["name"] == "cefepime"
    record = doc._.medications[0].to_dict()
    assert record["concept"] == lisinopril._.concepts[0] and doc._.medications[1].concept is None
    doc.ents = list(doc.ents) + [Span(doc, 1, 2, label="Strength")]  # other labels are never linked
    assert doc.ents[1]._.concepts is None
    nlp.to_disk(tmp_path / "pipeline")
    assert (tmp_path / "pipeline" / "clinical_concept_linker" / "concept_index.npz").exists()
    loaded = spacy.load(tmp_path / "pipeline")
    again = loaded(drug_doc(loaded, text, ["Lisinopril", "ASA", "cefepim"]))
    assert [e._.concepts for e in again.ents] == [e._.concepts for e in doc.ents[:1] + doc.ents[2:]]
    from_bytes = spacy.blank("en")
    from_bytes.add_pipe("clinical_concept_linker")
    from_bytes.from_bytes(nlp.to_bytes())
    assert from_bytes(drug_doc(from_bytes, text, ["Lisinopril"])).ents[0]._.concepts == lisinopril._.concepts

def test_settings_are_checked():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="min_score"):
        nlp.add_pipe("clinical_concept_linker", config={"min_score": 0})
