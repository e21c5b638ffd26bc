"""Deterministic generator of the synthetic sample corpus committed under `assets/sample`.

Everything it writes is invented: no real patient, and every name, date and number is
drawn from the seeded `random.Random` below. The files follow the real formats exactly:

- n2c2 2018 Track 2 brat standoff (`n2c2/{train,test}/sample_NNNN.txt` + `.ann`), notes in
  the style of MIMIC-III discharge summaries, de-identification placeholders included
  (`[**2115-2-22**]`, `[**Hospital1 18**]`, MIMIC-IV's `___` in `MIMIC_IV_NOTES`);
- CLEF eHealth nursing handover (`handover/{train,validation,test}/outputN.txt`), one token
  a line with 19 tab-separated fields.

`write_sample(out_dir, seed)` writes both corpora and `README.md`; the same seed gives the
same bytes. The placeholders of running text come from a second generator and are left
out of the long note's word count, so that adding them changed no other word of the notes.

The word lists (drugs, section headers, handover phrases ...) live in `words/n2c2.json` and
`words/handover.json` beside this module, read once at import; their order is part of the
output, as every draw depends on it.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

from clinical_ie.pipeline.labels import (
    HANDOVER_OUTSIDE,
    HANDOVER_TRAINING_CATEGORIES,
    N2C2_ENTITY_LABELS,
    N2C2_RELATION_TYPES,
)

N2C2_SPLITS = {"train": 48, "test": 12}
HANDOVER_SPLITS = {"train": 24, "validation": 8, "test": 8}
HANDOVER_FIRST_NUMBER = {"train": 1, "validation": 101, "test": 201}
HANDOVER_FIELDS = 19
LONG_NOTE = ("train", 7)  # this note gets >= 3,000 words
CRLF_NOTE = ("train", 3)  # this note uses "\r\n" line endings
MIMIC_IV_NOTES = (("train", 11), ("test", 5))  # these notes write every placeholder as MIMIC-IV's "___"
LONG_NOTE_WORDS = 3000
SYNTHETIC_BANNER = "SYNTHETIC SAMPLE NOTE - invented by scripts/make_sample.py, no real patient."
WORDS_DIR = Path(__file__).parent / "words"  # the word lists the notes and handovers are drawn from


def _tuples(value):
    """`value` with every JSON array turned back into a tuple."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    return value


def _words(name: str) -> dict:
    """The word lists of `words/{name}.json` by name, arrays as tuples."""
    return _tuples(json.loads((WORDS_DIR / f"{name}.json").read_text(encoding="utf8")))


# --------------------------------------------------------------------------------------
# n2c2 vocabulary, from `words/n2c2.json`
# --------------------------------------------------------------------------------------

_N2C2_WORDS = _words("n2c2")
_DRUGS = _N2C2_WORDS["drugs"]  # a drug: (names, strengths, route kind, reasons)
_FORMS = _N2C2_WORDS["forms"]  # route kind -> forms
_SIG_ROUTES = _N2C2_WORDS["sig_routes"]
_SIG_FORM = _N2C2_WORDS["sig_form"]
_ROUTES = _N2C2_WORDS["routes"]
_FREQUENCIES = _N2C2_WORDS["frequencies"]
_PRN_FREQUENCIES = _N2C2_WORDS["prn_frequencies"]
_SIG_FREQUENCIES = _N2C2_WORDS["sig_frequencies"]  # (code, gloss)
_SIG_PRN = _N2C2_WORDS["sig_prn"]
_SIG_DOSAGES = _N2C2_WORDS["sig_dosages"]
_DOSAGES = _N2C2_WORDS["dosages"]
_DURATION_UNITS = _N2C2_WORDS["duration_units"]  # (unit, lengths)
# ADE, its culprit drugs, and (for the ADE-that-is-also-a-Reason pattern) its treatments.
_ADES = _N2C2_WORDS["ades"]
_COMPLAINTS = _N2C2_WORDS["complaints"]
_PMH = _N2C2_WORDS["pmh"]
_PROCEDURES = _N2C2_WORDS["procedures"]
_DISPOSITIONS = _N2C2_WORDS["dispositions"]
_SERVICES = _N2C2_WORDS["services"]
_ALLERGY_DRUGS = _N2C2_WORDS["allergy_drugs"]
_FILLER = _N2C2_WORDS["filler"]
_PROBLEMS = _N2C2_WORDS["problems"]
_HEADERS = _N2C2_WORDS["headers"]  # section -> phrasings of its header


class _Note:
    """A brat note under construction: its text and the entities and relations on it."""

    def __init__(self, newline: str, width: int | None):
        self.newline = newline
        self.width = width
        self.text = ""
        self.column = 0
        self.entities: list[tuple[str, str, list[tuple[int, int]]]] = []
        self.relations: list[tuple[str, str, str, str]] = []

    def write(self, text: str, wrap: bool = True) -> tuple[int, int]:
        """Append `text` ("\\n" becomes the note's newline); wrap prose at `width`; return its offsets."""
        start = None
        for piece in re.split(r"(\n| (?![^\[\n]*\*\*\]))", text):  # no break inside "[**...**]"
            if not piece:
                continue
            if piece == "\n":
                start = len(self.text) if start is None else start
                self.text += self.newline
                self.column = 0
                continue
            if (wrap and self.width and piece != " " and self.text.endswith(" ")
                    and self.column + len(piece) > self.width):
                self.text = self.text[:-1] + self.newline
                self.column = 0
            start = len(self.text) if start is None else start
            self.text += piece
            self.column += len(piece)
        return (len(self.text) if start is None else start), len(self.text)

    def line(self, text: str = "") -> None:
        """Write `text` unwrapped, then a newline."""
        self.write(text + "\n", wrap=False)

    def entity(self, label: str, start: int, end: int) -> str:
        """Annotate [start, end); a span across line breaks becomes one fragment a line."""
        return self.add(label, [(start + m.start(), start + m.end())
                                for m in re.finditer(r"[^\r\n]+", self.text[start:end])])

    def add(self, label: str, fragments: list[tuple[int, int]]) -> str:
        """Annotate the character `fragments` as one entity; return its id."""
        entity_id = f"T{len(self.entities) + 1}"
        self.entities.append((entity_id, label, fragments))
        return entity_id

    def fragments(self, entity_id: str) -> list[tuple[int, int]]:
        """The character fragments of an entity."""
        return next(fragments for eid, _, fragments in self.entities if eid == entity_id)

    def tag(self, text: str, label: str, wrap: bool = True) -> str:
        """Write `text` and annotate it as `label`."""
        return self.entity(label, *self.write(text, wrap))

    def relate(self, attribute: str | None, drug: str | None) -> None:
        """Add `<label of attribute>-Drug` with Arg1 the attribute, Arg2 the drug."""
        if attribute is None or drug is None:
            return
        label = next(lab for eid, lab, _ in self.entities if eid == attribute)
        self.relations.append((f"R{len(self.relations) + 1}", f"{label}-Drug", attribute, drug))

    def say(self, *parts, wrap: bool = True) -> dict[str, str]:
        """Write parts: a str is plain text, `(text, label, key)` an entity; return key -> id."""
        ids = {}
        for part in parts:
            if isinstance(part, str):
                self.write(part, wrap)
            else:
                text, label, key = part
                ids[key] = self.tag(text, label, wrap)
        return ids

    def ann(self) -> str:
        """The `.ann` file text."""
        lines = []
        for entity_id, label, fragments in self.entities:
            offsets = ";".join(f"{s} {e}" for s, e in fragments)
            text = " ".join(self.text[s:e] for s, e in fragments)
            lines.append(f"{entity_id}\t{label} {offsets}\t{text}\n")
        for relation_id, rel_type, arg1, arg2 in self.relations:
            lines.append(f"{relation_id}\t{rel_type} Arg1:{arg1} Arg2:{arg2}\n")
        return "".join(lines)


class _NoteWriter:
    """Writes one synthetic discharge summary with its annotation."""

    def __init__(self, rng: random.Random, deid: random.Random, newline: str, long: bool, mimic_iv: bool):
        self.rng = rng
        self.deid = deid  # draws the placeholders of running text
        self.deid_words = 0  # words written by `insert`
        self.mimic_iv = mimic_iv
        self.long = long
        self.note = _Note(newline, rng.choice((None, None, None, 80, 100)))
        self.he, self.his = rng.choice((("He", "his"), ("She", "her")))
        self.year, self.month, self.day = rng.randint(2105, 2195), rng.randint(1, 12), rng.randint(1, 14)
        self.age = rng.randint(25, 95)

    # --- small helpers -------------------------------------------------------------
    def pick_drug(self, kinds: str = "po iv sc inh top sl"):
        """A random drug whose route kind is one of `kinds`."""
        return self.rng.choice([d for d in _DRUGS if d[2] in kinds.split()])

    def subject(self) -> str:
        """How a sentence names the patient."""
        return self.rng.choice((self.he, self.he, "The patient", "Pt"))

    def placeholder(self, content: str) -> str:
        """A de-identification placeholder: MIMIC-III `[**content**]`, or MIMIC-IV `___`."""
        return "___" if self.mimic_iv else f"[**{content}**]"

    def date(self, days_later: int | None = None) -> str:
        """A MIMIC-style date placeholder during the stay (invented)."""
        day = self.day + (self.rng.randint(0, 13) if days_later is None else days_later)
        return self.placeholder(f"{self.year}-{self.month}-{day}")

    # --- placeholders of running text, all drawn from `deid` ---------------------------
    def stay_date(self) -> str:
        """A date placeholder during the stay."""
        return self.placeholder(f"{self.year}-{self.month}-{self.day + self.deid.randint(0, 13)}")

    def hospital(self) -> str:
        """A hospital-name placeholder."""
        return self.placeholder(self.deid.choice((f"Hospital1 {self.deid.randint(1, 99)}",
                                                  f"Hospital {self.deid.randint(1000, 9999)}")))

    def doctor(self) -> str:
        """`Dr.` and a name placeholder, or two in a row (first and last name)."""
        if self.deid.random() < 0.5:
            return f"Dr. {self.placeholder(f'Last Name (STitle) {self.deid.randint(100, 9999)}')}"
        return (f"Dr. {self.placeholder(f'First Name8 (NamePattern2) {self.deid.randint(100, 9999)}')} "
                f"{self.placeholder(f'Last Name (NamePattern1) {self.deid.randint(100, 9999)}')}")

    def phone(self) -> str:
        """A telephone-number placeholder."""
        return self.placeholder(f"Telephone/Fax (1) {self.deid.randint(1000, 9999)}")

    def insert(self, text: str) -> None:
        """Write running text with placeholders, which the long note's word count leaves out."""
        self.note.write(text)
        self.deid_words += len(text.split())

    def deid_sentence(self) -> str:
        """A sentence of running text around placeholders, some glued to punctuation or a word."""
        return self.deid.choice((
            f"Discussed with {self.doctor()} on {self.stay_date()}. ",
            f"{self.he} was transferred to {self.hospital()} on {self.stay_date()}. ",
            f"Seen by {self.doctor()} ({self.hospital()}). ",
            f"Repeat labs were sent on{self.stay_date()}. ",
        ))

    def strength(self, drug) -> str:
        """One of the drug's strengths, sometimes without the space (`5mg`)."""
        strength = self.rng.choice(drug[1])
        if self.rng.random() < 0.3 and re.fullmatch(r"[\d.,-]+ (mg|mcg|gm|g|mEq)", strength):
            strength = strength.replace(" ", "")  # "5mg"
        return strength

    def duration(self) -> tuple[str, str]:
        """(text before, Duration): the Duration is the length only, e.g. `x7days` -> `7days`."""
        unit, values = self.rng.choice(_DURATION_UNITS)
        n = self.rng.choice(values)
        unit = unit if n > 1 else "day"
        return self.rng.choice((
            ("x", f"{n}{unit}"), ("x ", f"{n} {unit}"), ("for ", f"{n} {unit}"),
            ("for a total of ", f"{n} {unit}"), ("x", f"{n}d") if unit == "days" else ("for ", f"{n} {unit}"),
        ))

    # --- medication list items -------------------------------------------------------
    def med_item(self, number: str, style: str) -> None:
        """One medication line after its `number` ("3. ", "" ...), in `style`."""
        n, rng = self.note, self.rng
        n.write(number, wrap=False)
        if style == "insulin":
            self.insulin_item()
            return
        drug = self.pick_drug("po" if style == "slash" else "po iv sc inh top sl")
        kind = drug[2]
        name = rng.choice(drug[0])
        d = n.tag(name, "Drug", wrap=False)
        n.write(" ", wrap=False)
        if style == "sig":
            # MIMIC: "Acetaminophen 325 mg Tablet Sig: Two (2) Tablet PO Q6H (every 6 hours) as needed for pain."
            n.relate(n.tag(rng.choice(drug[1]), "Strength", wrap=False), d)
            n.write(" ", wrap=False)
            n.relate(n.tag(rng.choice(_FORMS[kind]), "Form", wrap=False), d)
            n.write(" Sig: ", wrap=False)
            n.relate(n.tag(rng.choice(_SIG_DOSAGES), "Dosage", wrap=False), d)
            n.write(" ", wrap=False)
            sig_form = _SIG_FORM[kind] + ("s" if rng.random() < 0.2 else "")
            n.relate(n.tag(sig_form, "Form", wrap=False), d)
            n.write(" ", wrap=False)
            n.relate(n.tag(rng.choice(_SIG_ROUTES[kind]), "Route", wrap=False), d)
            n.write(" ", wrap=False)
            prn = rng.random() < 0.25
            code, gloss = rng.choice(_SIG_PRN if prn else _SIG_FREQUENCIES)
            words = f"{code} ({gloss})".split(" ")
            if rng.random() < 0.05 and len(words) > 2:  # MIMIC hard-wraps sig lines
                cut = rng.randint(2, len(words) - 1)
                text = " ".join(words[:cut]) + "\n" + " ".join(words[cut:])
            else:
                text = " ".join(words)
            n.relate(n.tag(text, "Frequency", wrap=False), d)
            if prn:
                n.write(" as needed for ", wrap=False)
                n.relate(n.tag(rng.choice(drug[3]), "Reason", wrap=False), d)
            elif rng.random() < 0.15:
                before, length = self.duration()
                n.write(" " + before, wrap=False)
                n.relate(n.tag(length, "Duration", wrap=False), d)
            n.line(".")
            return
        if style == "slash":
            # "Tylenol 650 mg tab(s) 2-3 tabs/day"
            n.relate(n.tag(self.strength(drug), "Strength", wrap=False), d)
            n.write(" ", wrap=False)
            n.relate(n.tag(rng.choice(("tab(s)", "tab", "tablet(s)", "cap(s)")), "Form", wrap=False), d)
            n.write(rng.choice((", ", " ", ": ")), wrap=False)
            n.relate(n.tag(rng.choice(("1-2", "2-3", "1", "2", "3")), "Dosage", wrap=False), d)
            n.write(" ", wrap=False)
            n.relate(n.tag(rng.choice(("tabs", "tablets", "caps")), "Form", wrap=False), d)
            n.write(rng.choice(("", " ")), wrap=False)
            n.relate(n.tag(rng.choice(("/day", "/d", "/24h")), "Frequency", wrap=False), d)
            n.line()
            return
        # "short": components in a realistic order, some optional
        n.relate(n.tag(self.strength(drug), "Strength", wrap=False), d)
        if rng.random() < 0.35:
            n.write(" ", wrap=False)
            n.relate(n.tag(rng.choice(_FORMS[kind]), "Form", wrap=False), d)
        if rng.random() < 0.2 and kind in ("po", "inh"):
            n.write(" ", wrap=False)
            n.relate(n.tag(rng.choice(_DOSAGES), "Dosage", wrap=False), d)
            if rng.random() < 0.5:
                n.write(" ", wrap=False)
                n.relate(n.tag(rng.choice(("tab", "tabs", "puffs", "caps")), "Form", wrap=False), d)
        if rng.random() < 0.8:
            n.write(" ", wrap=False)
            n.relate(n.tag(rng.choice(_ROUTES[kind]), "Route", wrap=False), d)
        n.write(" ", wrap=False)
        prn = rng.random() < 0.2
        n.relate(n.tag(rng.choice(_PRN_FREQUENCIES if prn else _FREQUENCIES), "Frequency", wrap=False), d)
        if prn:
            n.write(rng.choice((" ", " for ")), wrap=False)
            n.relate(n.tag(rng.choice(drug[3]), "Reason", wrap=False), d)
        elif kind == "iv" or rng.random() < 0.1:
            before, length = self.duration()
            n.write(" " + before, wrap=False)
            n.relate(n.tag(length, "Duration", wrap=False), d)
        n.line(rng.choice(("", "", ".")))

    def insulin_item(self) -> None:
        """`Insulin Pen ...`: the Drug covers "Insulin Pen", a Form covers "Pen" inside it."""
        n, rng = self.note, self.rng
        start, _ = n.write(rng.choice(("Insulin ", "insulin ", "Humalog Insulin ")), wrap=False)
        form = n.tag(rng.choice(("Pen", "pen", "Pen Injector")), "Form", wrap=False)
        d = n.entity("Drug", start, len(n.text))
        n.relate(form, d)
        n.write(rng.choice((" Sig: ", " ")), wrap=False)
        n.relate(n.tag(f"{rng.choice((4, 6, 8, 10, 12, 16, 20, 24))} units", "Dosage", wrap=False), d)
        n.write(" ", wrap=False)
        n.relate(n.tag(rng.choice(_ROUTES["sc"]), "Route", wrap=False), d)
        n.write(" ", wrap=False)
        n.relate(n.tag(rng.choice(("qhs", "QAM", "with meals", "before breakfast", "q.h.s.", "TID with meals")),
                       "Frequency", wrap=False), d)
        n.line()

    def med_list(self, count: int) -> None:
        """A medication list of `count` items in one of the list styles."""
        rng = self.rng
        main = rng.choice(("sig", "sig", "short", "short"))
        numbering = "{}. " if main == "sig" else rng.choice(("{}. ", "{}) ", "{}.", "#{} ", "", "- "))
        for i in range(1, count + 1):
            roll = rng.random()
            style = "insulin" if roll < 0.06 else "slash" if roll < 0.12 else main
            self.med_item(numbering.format(i), style)

    def inline_med_list(self) -> None:
        """`Lisinopril 10 mg daily, metformin 500mg BID, ASA 81 mg daily.`"""
        n, rng = self.note, self.rng
        for i in range(rng.randint(3, 7)):
            drug = self.pick_drug("po")
            if i:
                n.write(", ")
            d = n.tag(rng.choice(drug[0]), "Drug")
            n.write(" ")
            n.relate(n.tag(self.strength(drug), "Strength"), d)
            n.write(" ")
            n.relate(n.tag(rng.choice(_FREQUENCIES), "Frequency"), d)
        n.line(".")

    # --- prose ---------------------------------------------------------------------
    def sentence(self) -> None:
        """One prose sentence (or two, for cross-sentence relations) with medication events."""
        n, rng = self.note, self.rng
        kind = rng.choices(range(14), weights=(3, 2, 1, 1, 1, 1, 2, 2, 2, 2, 0.3, 1.5, 0.7, 3))[0]
        drug = self.pick_drug()
        name = rng.choice(drug[0])
        reason = rng.choice(drug[3])
        subject = self.subject()
        if kind == 0:
            where = self.deid.choice(("", "", "drug", "reason"))
            ids = n.say(f"{subject} was started on ", (name, "Drug", "d"))
            self.insert(f" {self.stay_date()}" if where == "drug" else "")
            ids.update(n.say(" for ", (reason, "Reason", "r")))
            self.insert(f" on {self.stay_date()}" if where == "reason" else "")
            n.write(". ")
            n.relate(ids["r"], ids["d"])
        elif kind == 1:  # Reason-Drug across a sentence boundary
            ids = n.say(f"{subject} was found to have ", (reason, "Reason", "r"), ". ",
                        (name[0].upper() + name[1:], "Drug", "d"), rng.choice((" was started", " was given",
                                                                            " was initiated")))
            n.relate(ids["r"], ids["d"])
            if rng.random() < 0.5:
                before, length = self.duration()
                n.write(" " + before)
                n.relate(n.tag(length, "Duration"), ids["d"])
            n.write(". ")
        elif kind in (2, 3, 4):
            ade, culprits, _ = rng.choice(_ADES)
            culprit = rng.choice(culprits)
            template = (
                (f"{subject} developed ", "a", " attributed to ", "d", ". "),
                ("Course was complicated by ", "a", " secondary to ", "d", ", which was held. "),
                ("d", f" was discontinued after {self.he.lower()} developed ", "a", ". "),
                (f"{subject} had ", "a", " thought to be due to ", "d", ". "),
                ("a", " was felt to be related to ", "d", " and resolved after it was stopped. "),
            )[rng.randrange(5)]
            ids = {}
            for i, part in enumerate(template):
                text = {"a": ade, "d": culprit}.get(part, part)
                text = text[0].upper() + text[1:] if i == 0 else text
                if part in ("a", "d"):
                    ids[part] = n.tag(text, "ADE" if part == "a" else "Drug")
                else:
                    n.write(text)
            n.relate(ids["a"], ids["d"])
        elif kind == 5:  # the same words are an ADE of one drug and the Reason for another
            ade, culprits, treatments = rng.choice([a for a in _ADES if a[2]])
            ids = n.say(f"{subject} presented with ", (ade, "ADE", "a"), " in the setting of ",
                        (rng.choice(culprits), "Drug", "c"), " use and was treated with ",
                        (rng.choice(treatments), "Drug", "t"), ". ")
            reason = n.add("Reason", n.fragments(ids["a"]))
            n.relate(ids["a"], ids["c"])
            n.relate(reason, ids["t"])
        elif kind == 6:
            first, second = self.pick_drug("po"), self.pick_drug("po")
            n.say(f"{subject} was continued on {self.his} home ", (rng.choice(first[0]), "Drug", "a"),
                        " and ", (rng.choice(second[0]), "Drug", "b"), ". ")
        elif kind == 7:
            drug = self.pick_drug("iv")
            ids = n.say(f"{subject} received ", (rng.choice(drug[0]), "Drug", "d"), " ",
                        (self.strength(drug), "Strength", "s"), " ",
                        (rng.choice(_ROUTES["iv"]), "Route", "r"), " ",
                        (rng.choice(("q12h", "q24h", "Q8H", "every 12 hours", "daily", "q8h")), "Frequency", "f"),
                        " for ", (rng.choice(drug[3]), "Reason", "why"))
            before, length = self.duration()
            n.write(", to be continued " + before)
            ids["dur"] = n.tag(length, "Duration")
            n.write(". ")
            for key in ("s", "r", "f", "why", "dur"):
                n.relate(ids[key], ids["d"])
        elif kind == 8:
            drug = self.pick_drug("po iv")
            ids = n.say(f"{subject} required ", (rng.choice(drug[0]), "Drug", "d"), " ",
                        (self.strength(drug), "Strength", "s"), " ", (rng.choice(_ROUTES[drug[2]]), "Route", "r"),
                        " for ", (rng.choice(drug[3]), "Reason", "why"),
                        rng.choice((" overnight. ", " x1. ", ". ")))
            for key in ("s", "r", "why"):
                n.relate(ids[key], ids["d"])
        elif kind == 9:
            ids = n.say((name[0].upper() + name[1:], "Drug", "d"), " was ", rng.choice(("increased", "decreased",
                                                                                        "titrated")),
                        " to ", (self.strength(drug), "Strength", "s"), " ",
                        (rng.choice(_FREQUENCIES), "Frequency", "f"))
            self.insert(f" on {self.stay_date()}" if self.deid.random() < 0.4 else "")
            ids.update(n.say(" for ", (reason, "Reason", "r"), ". "))
            for key in ("s", "f", "r"):
                n.relate(ids[key], ids["d"])
        elif kind == 10:  # coordination: "insulin glargine and lispro" -> Drug "insulin ... lispro"
            n.write(f"{subject} was maintained on ")
            first = n.tag(rng.choice(("insulin glargine", "insulin NPH")), "Drug")
            n.write(" and ")
            insulin = n.fragments(first)[0][0]
            second = n.add("Drug", [(insulin, insulin + len("insulin")),
                                    n.write(rng.choice(("lispro", "regular")))])
            n.write(" for ")
            r = n.tag(rng.choice(("diabetes", "type 1 diabetes", "hyperglycemia", "DM")), "Reason")
            n.relate(r, first)
            n.relate(r, second)
            n.write(". ")
        elif kind == 11:
            ids = n.say(f"{subject} was given ", (rng.choice(_DOSAGES[:4]), "Dosage", "n"), " ",
                        (rng.choice(("tablet", "tab", "dose", "capsule")), "Form", "f"), " of ",
                        (name, "Drug", "d"), " for ", (reason, "Reason", "r"), ". ")
            for key in ("n", "f", "r"):
                n.relate(ids[key], ids["d"])
        elif kind == 12:  # Reason on one line, Drug on the next
            ids = n.say(f"Given {self.his} ", (reason, "Reason", "r"), ",")
            n.write("\n")
            ids.update(n.say(f"{self.he.lower()} was started on ", (name, "Drug", "d"), ". "))
            n.relate(ids["r"], ids["d"])
        else:
            n.write(rng.choice(_FILLER).format(cr=round(rng.uniform(0.6, 3.2), 1), hb=round(rng.uniform(7, 14), 1),
                                               ef=rng.choice((20, 30, 35, 45, 55, 60, 65)),
                                               cfu=rng.choice((10, 50, 100))) + " ")

    def paragraph(self, sentences: int) -> None:
        """`sentences` prose sentences (and now and then a placeholder sentence), then a line break."""
        for _ in range(sentences):
            self.sentence()
            if self.deid.random() < 0.12:
                self.insert(self.deid_sentence())
        self.note.text = self.note.text.rstrip(" ")
        self.note.line()

    # --- sections ------------------------------------------------------------------
    def header(self, key: str) -> None:
        """One of the phrasings of a section header, on its own line."""
        self.note.line(self.rng.choice(_HEADERS[key]))

    def write(self) -> _Note:
        """Write the whole note and return it."""
        n, rng = self.note, self.rng
        n.line(SYNTHETIC_BANNER)
        n.line()
        n.line(f"Admission Date:  {self.date(0)}              Discharge Date:   {self.date(14)}")
        n.line()
        n.line(f"Date of Birth:  {self.placeholder(f'{self.year - self.age}-{rng.randint(1, 12)}-{rng.randint(1, 28)}')}"
               f"             Sex:   {'M' if self.he == 'He' else 'F'}")
        n.line()
        n.line(f"Service: {rng.choice(_SERVICES)}")
        n.line()
        n.line("Allergies:")
        if rng.random() < 0.4:
            n.line("Patient recorded as having No Known Allergies to Drugs")
        else:
            for i, allergy in enumerate(rng.sample(_ALLERGY_DRUGS, rng.randint(1, 3))):
                if i:
                    n.write(" / ", wrap=False)
                if allergy in ("Latex", "Iodine"):
                    n.write(allergy, wrap=False)
                else:
                    n.tag(allergy, "Drug", wrap=False)
            n.line()
        n.line()
        n.line(f"Attending:{self.placeholder(f'First Name3 (LF) {rng.randint(100, 9999)}')}")
        n.line("Chief Complaint:")
        n.line(rng.choice(_COMPLAINTS))
        n.line()
        n.line("Major Surgical or Invasive Procedure:")
        n.line(rng.choice(_PROCEDURES))
        n.line()
        sections = ["hpi", "pmh", "social", "exam", "results"]
        if rng.random() < 0.3:
            sections[1:3] = sections[2:0:-1]
        for section in sections:
            if section in ("social", "exam", "results") and rng.random() < 0.3:
                continue
            getattr(self, "section_" + section)()
            n.line()
        tail = ["course", "admission_meds", "discharge_meds"]
        rng.shuffle(tail)
        for section in tail:
            getattr(self, "section_" + section)()
            n.line()
        n.line("Discharge Disposition:")
        n.line(rng.choice(_DISPOSITIONS))
        n.line()
        n.line("Discharge Diagnosis:")
        n.line(rng.choice(_PROBLEMS))
        n.line()
        n.line("Discharge Condition:")
        n.line(rng.choice(("Stable", "Good", "Mental Status: Clear and coherent. Ambulatory - Independent.")))
        n.line()
        self.section_instructions()
        n.line()
        n.line("Followup Instructions:")
        n.line(f"Please follow up with your PCP Dr. {self.placeholder(f'Last Name (STitle) {rng.randint(100, 9999)}')} "
               f"in {rng.choice(('1 week', '2 weeks', '1 month'))}.")
        return n

    def section_hpi(self) -> None:
        self.header("hpi")
        history = ", ".join(self.rng.sample(_PMH, 3))
        if self.deid.random() < 0.6:
            title = "Mr." if self.he == "He" else "Ms."
            self.insert(f"{title} {self.placeholder(f'Known lastname {self.deid.randint(100, 9999)}')} is a ")
        self.note.write(f"{self.age} y/o {'M' if self.he == 'He' else 'F'} with {history} "
                        f"who presents with {self.rng.choice(_COMPLAINTS)}. ")
        if self.deid.random() < 0.4:
            self.insert(f"{self.he} was transferred from {self.hospital()} for further management. ")
        self.paragraph(self.rng.randint(2, 6) * (3 if self.long else 1))

    def section_pmh(self) -> None:
        self.header("pmh")
        bullet = self.rng.choice(("- ", "* ", "", "# "))
        for item in self.rng.sample(_PMH, self.rng.randint(3, 8)):
            self.note.line(bullet + item)

    def section_social(self) -> None:
        self.header("social")
        self.note.line(self.rng.choice((
            f"Lives with {self.rng.choice(('wife', 'husband', 'daughter', 'son'))}. Quit smoking "
            f"{self.rng.randint(2, 40)} years ago. Occasional EtOH.",
            "Lives alone. Denies tobacco, alcohol or illicit drug use.",
            f"Retired {self.rng.choice(('teacher', 'engineer', 'nurse', 'carpenter'))}. "
            f"{self.rng.randint(10, 60)} pack-year smoking history.",
        )))

    def section_exam(self) -> None:
        rng = self.rng
        self.header("exam")
        self.note.line(f"VS: T {round(rng.uniform(36.1, 39.2), 1)} "
                       f"BP {rng.randint(90, 180)}/{rng.randint(50, 100)} "
                       f"HR {rng.randint(50, 130)} RR {rng.randint(12, 28)} O2sat {rng.randint(88, 100)}% RA")
        self.note.line("Gen: NAD. HEENT: MMM. CV: RRR, no m/r/g. Lungs: CTAB. Abd: soft, NT/ND. Ext: no edema.")

    def section_results(self) -> None:
        rng = self.rng
        self.header("results")
        for _ in range(rng.randint(1, 3)):
            self.note.line(f"{self.date()} {rng.randint(1, 12):02d}:{rng.randint(0, 59):02d}AM BLOOD "
                           f"WBC-{round(rng.uniform(3, 18), 1)} Hgb-{round(rng.uniform(7, 15), 1)} "
                           f"Plt Ct-{rng.randint(90, 450)} Glucose-{rng.randint(70, 300)} "
                           f"Creat-{round(rng.uniform(0.5, 3.5), 1)} K-{round(rng.uniform(3, 6), 1)}")

    def section_course(self) -> None:
        n, rng = self.note, self.rng
        self.header("course")
        if rng.random() < 0.5 and not self.long:
            self.paragraph(rng.randint(4, 10))
            return
        problems = rng.sample(_PROBLEMS, rng.randint(2, 5))
        while problems:
            n.write(f"# {problems.pop(0)}: ")
            self.paragraph(rng.randint(2, 5))
            if self.long and not problems and len(n.text.split()) - self.deid_words < LONG_NOTE_WORDS:
                problems = rng.sample(_PROBLEMS, 5)

    def section_admission_meds(self) -> None:
        self.header("admission_meds")
        if self.rng.random() < 0.4:
            self.inline_med_list()
        else:
            self.med_list(self.rng.randint(3, 8))

    def section_discharge_meds(self) -> None:
        self.header("discharge_meds")
        self.med_list(self.rng.randint(5, 25 if self.long else 14))

    def section_instructions(self) -> None:
        n, rng = self.note, self.rng
        self.header("instructions")
        n.write(f"You were admitted for {rng.choice(_COMPLAINTS)}. ")
        drug = self.pick_drug("po")
        ids = n.say("We started ", (rng.choice(drug[0]), "Drug", "d"), " for ",
                    (rng.choice(drug[3]), "Reason", "r"),
                    ". Please take ", (self.strength(drug), "Strength", "s"), " ",
                    (rng.choice(("twice a day", "once a day", "every morning", "daily")), "Frequency", "f"))
        for key in ("r", "s", "f"):
            n.relate(ids[key], ids["d"])
        if rng.random() < 0.5:
            before, length = self.duration()
            n.write(" " + before)
            n.relate(n.tag(length, "Duration"), ids["d"])
        n.write(". ")
        if rng.random() < 0.5:
            ade, culprits, _ = rng.choice(_ADES)
            ids = n.say("Please stop taking ", (rng.choice(culprits), "Drug", "d"), " because it caused ",
                        (ade, "ADE", "a"), ". ")
            n.relate(ids["a"], ids["d"])
        if self.deid.random() < 0.5:
            self.insert(f"Please call {self.doctor()} at {self.phone()}. ")
        n.line("Call your doctor if you have fever or worsening symptoms.")


def n2c2_note(seed: int, split: str, index: int) -> tuple[str, str]:
    """(`.txt` text, `.ann` text) of one synthetic note; deterministic in its arguments."""
    rng = random.Random(f"{seed}-n2c2-{split}-{index}")
    deid = random.Random(f"{seed}-n2c2-deid-{split}-{index}")
    newline = "\r\n" if (split, index) == CRLF_NOTE else "\n"
    note = _NoteWriter(rng, deid, newline, long=(split, index) == LONG_NOTE,
                       mimic_iv=(split, index) in MIMIC_IV_NOTES).write()
    return note.text, note.ann()


# --------------------------------------------------------------------------------------
# Nursing handover
# --------------------------------------------------------------------------------------

_HANDOVER_WORDS = _words("handover")
_GIVEN = _HANDOVER_WORDS["given"]
_LAST = _HANDOVER_WORDS["last"]
_CITIES = _HANDOVER_WORDS["cities"]
_HANDOVER = _HANDOVER_WORDS["handover"]  # phrase kind -> phrases
_LEXICON = _HANDOVER_WORDS["lexicon"]  # token -> (lemma, POS)
_CONCEPTS = _HANDOVER_WORDS["concepts"]  # category prefix -> ontology concept written in one of the concept fields


def _handover_sentences(rng: random.Random) -> list[list[tuple[str, str]]]:
    """One handover: sentences of (token, gold category)."""
    he, his, him = rng.choice((("He", "his", "him"), ("She", "her", "her")))
    sentences = []

    def say(*parts) -> None:
        """A str part is outside (`NA`); `(text, category)` a category; `{his}` etc. are filled in."""
        tokens = []
        for part in parts:
            text, category = (part, HANDOVER_OUTSIDE) if isinstance(part, str) else part
            text = text.format(He=he, his=his, His=his.capitalize(), him=him)
            tokens += [(token, category) for token in text.split()]
        sentences.append(tokens)

    def pick(key: str) -> str:
        """A random phrase of kind `key`."""
        return rng.choice(_HANDOVER[key])

    pi, ms, ap, md, fu = ("PatientIntroduction_", "MyShift_", "Appointment/Procedure_", "Medication_", "Future_")
    given, last, age = rng.choice(_GIVEN), rng.choice(_LAST), str(rng.randint(19, 98))
    gender = rng.choice(("gentleman", "man", "male")) if he == "He" else rng.choice(("lady", "woman", "female"))
    intro = rng.randrange(3)
    if intro == 0:
        say("Bed", (str(rng.randint(1, 32)), pi + "CurrentBed"), ",", (given, pi + "GivenNames/Initials"),
            (last, pi + "Lastname"), ",", (age, pi + "Ageinyears"), "years old , came in with",
            (pick("reason"), pi + "AdmissionReason/Diagnosis"), ", under Dr",
            (rng.choice(_LAST), pi + "UnderDr_Lastname"), ".")
    elif intro == 1:
        say("In room", (str(rng.randint(1, 20)), pi + "CurrentRoom"), "we have",
            (given, pi + "GivenNames/Initials"), (last, pi + "Lastname"), ",", (age, pi + "Ageinyears"),
            "year old", (gender, pi + "Gender"), ", admitted with",
            (pick("reason"), pi + "AdmissionReason/Diagnosis"), ", under Dr",
            (rng.choice(_GIVEN), pi + "UnderDr_GivenNames/Initials"),
            (rng.choice(_LAST), pi + "UnderDr_Lastname"), ".")
    else:
        say("This is", (last, pi + "Lastname"), "in bed", (str(rng.randint(1, 32)), pi + "CurrentBed"), ",",
            (he, pi + "Gender"), "'s", (age, pi + "Ageinyears"), ",", (he.lower(), pi + "Gender"), "came in with",
            (pick("reason"), pi + "AdmissionReason/Diagnosis"), ".")
    blocks = [
        lambda: say(("{He}", pi + "Gender"), "has a history of", (pick("history"), pi + "Disease/ProblemHistory"),
                    "and", (pick("chronic"), pi + "ChronicCondition"), "."),
        lambda: say("{He} 's allergic to", (pick("allergy"), pi + "Allergy"), "."),
        lambda: say("{He} 's for", (pick("careplan"), pi + "CarePlan"), "."),
        lambda: say("{He} 's been", (pick("status"), ms + "Status"), "overnight ."),
        lambda: say(("Obs stable", ms + "Status"), "."),
        lambda: say("{He} 's got", (pick("contraption"), ms + "Contraption"), "."),
        lambda: say("{He} 's on", (pick("diet"), ms + "Input/Diet"), "."),
        lambda: say((pick("output"), ms + "Output/Diuresis/BowelMovement"), "."),
        lambda: say("The", (pick("wound"), ms + "Wounds/Skin"), "."),
        lambda: say("{He}", (pick("adl"), ms + "ActivitiesOfDailyLiving"), "."),
        lambda: say("{He} 's", (pick("risk"), ms + "RiskManagement"), "."),
        lambda: say((pick("obs"), ms + "OtherObservation"), "."),
        lambda: say("{He} 's on", (pick("medicine"), md + "Medicine"), (pick("dosage"), md + "Dosage"), "."),
        lambda: say("The", (pick("medicine"), md + "Medicine"), "is", (pick("med_status"), md + "Status"), "."),
        lambda: say("{He} 's", (pick("appt_status"), ap + "Status"), "for",
                    (pick("description"), ap + "Description"),
                    (pick("day"), ap + "Day"), "at", (pick("time"), ap + "Time"), "."),
        lambda: say("{He} had", (pick("description"), ap + "Description"), "with Dr",
                    (rng.choice(_GIVEN), ap + "ClinicianGivenNames/Initials"),
                    (rng.choice(_LAST), ap + "ClinicianLastname"), (pick("day"), ap + "Day"), ", results",
                    ("pending", ap + "Status"), "."),
        lambda: say("{He} 's going to", (pick("ward"), ap + "Ward"), "for",
                    (pick("description"), ap + "Description"),
                    "in", (rng.choice(_CITIES), ap + "City"), "."),
        lambda: say((pick("alert"), fu + "Alert/Warning/AbnormalResult"), "."),
        lambda: say("Needs", (pick("goal"), fu + "Goal/TaskToBeCompleted/ExpectedOutcome"),
                    rng.choice(("tomorrow morning", "today", "before lunch")), "."),
        lambda: say("{He} 's", (pick("discharge"), fu + "Discharge/TransferPlan"), "."),
        lambda: say(pick("filler"), "."),
    ]
    for block in rng.sample(blocks, rng.randint(7, 13)):
        block()
    return sentences


def _features(token: str, category: str, first: bool, head: str) -> tuple[str, str, str, str, str]:
    """(lemma, Stanford NER, POS, parse path, dependency) for a token, in the style of the real files."""
    lemma, pos = _LEXICON.get(token.lower(), (None, None))
    if pos is None:
        if re.fullmatch(r"[\d.,]+", token):
            lemma, pos = token, "CD"
        elif not token.isalnum() and len(token) == 1:
            lemma, pos = token, ":"
        elif token[0].isupper() and not first:
            lemma, pos = token.lower(), "NNP"
        elif token.endswith("ing"):
            lemma, pos = token.lower()[:-3], "VBG"
        elif token.endswith("ed"):
            lemma, pos = token.lower()[:-2], "VBN"
        elif token.endswith("ly"):
            lemma, pos = token.lower(), "RB"
        elif token.endswith("s") and not token.endswith("ss") and len(token) > 3:
            lemma, pos = token.lower()[:-1], "NNS"
        else:
            lemma, pos = token.lower(), "NN"
    if category.endswith(("GivenNames/Initials", "Lastname")):
        ner = "PERSON"
    elif category.endswith("_Day"):
        ner = "DATE"
    elif category.endswith("_Time"):
        ner = "TIME"
    elif category.endswith("_City"):
        ner = "LOCATION"
    elif pos == "CD":
        ner = "NUMBER"
    else:
        ner = "O"
    phrase = {"PRP": "NP", "PRP$": "NP", "DT": "NP", "CD": "NP", "IN": "PP", "TO": "PP", "JJ": "ADJP",
              "RB": "ADVP"}.get(pos, "VP" if pos.startswith("VB") else "NP" if pos[0].isalpha() else "S")
    path = f"ROOT-S-{'S-' if first else ''}{phrase}-{pos}"
    dependency = "NONE" if pos[0].isalpha() else "punct"
    return lemma, ner, pos, path, dependency if head != token else "root"


def _noisy(rng: random.Random, gold: str, categories: list[str]) -> str:
    """The organisers' CRF prediction: right about 70% of the time."""
    if gold == HANDOVER_OUTSIDE:
        return gold if rng.random() < 0.85 else rng.choice(categories)
    roll = rng.random()
    return gold if roll < 0.55 else HANDOVER_OUTSIDE if roll < 0.85 else rng.choice(categories)


def handover_document(seed: int, split: str, index: int) -> str:
    """The text of one synthetic handover file (19 tab-separated fields a token line)."""
    rng = random.Random(f"{seed}-handover-{split}-{index}")
    sentences = _handover_sentences(rng)
    categories = sorted({cat for sentence in sentences for _, cat in sentence} - {HANDOVER_OUTSIDE})
    total = sum(len(s) for s in sentences)
    position = 0
    blocks = []
    for sentence in sentences:
        head = next((tok for tok, _ in sentence if _LEXICON.get(tok.lower(), ("", ""))[1].startswith("VB")),
                    sentence[0][0])
        lines = []
        for i, (token, gold) in enumerate(sentence):
            position += 1
            lemma, ner, pos, path, dependency = _features(token, gold, i == 0, head)
            concepts = ["NONE"] * 7
            for prefix, concept in _CONCEPTS.items():
                if gold.startswith(prefix):
                    concepts[rng.randrange(7)] = concept
            fields = [token, lemma, ner, pos, path, dependency, head, f"{position / total:.2f}", *concepts,
                      f"{(i + 1) / len(sentence):.1f}", "1.0" if pos == "CD" else "0.0",
                      gold, _noisy(rng, gold, categories)]
            assert len(fields) == HANDOVER_FIELDS
            lines.append("\t".join(fields) + "\n")
        blocks.append("".join(lines))
    return "\n".join(blocks) + ("\n" if index % 2 == 0 else "")


# --------------------------------------------------------------------------------------
# Writing the corpus
# --------------------------------------------------------------------------------------


def _clear(directory: Path, pattern: str) -> None:
    """Remove previously generated files matching `pattern` in `directory`, then make sure it exists."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob(pattern):
        path.unlink()


def _write(path: Path, text: str) -> None:
    """Write `text` as UTF-8 without newline translation."""
    with path.open("w", encoding="utf8", newline="") as handle:
        handle.write(text)


def write_sample(out_dir: str | Path, seed: int = 0) -> dict[str, Counter]:
    """Write the synthetic corpora and README.md under `out_dir`; return the counts written."""
    out = Path(out_dir)
    counts: dict[str, Counter] = {"files": Counter(), "entities": Counter(), "relations": Counter(),
                                  "categories": Counter(), "other": Counter()}
    for split, number in N2C2_SPLITS.items():
        directory = out / "n2c2" / split
        _clear(directory, "sample_*.*")
        for index in range(1, number + 1):
            text, ann = n2c2_note(seed, split, index)
            _write(directory / f"sample_{index:04d}.txt", text)
            _write(directory / f"sample_{index:04d}.ann", ann)
            counts["files"][f"n2c2/{split}"] += 1
            counts["other"][f"words n2c2/{split}"] += len(text.split())
            counts["other"]["longest note words"] = max(counts["other"]["longest note words"], len(text.split()))
            counts["other"]["placeholders [**...**]"] += text.count("[**")
            counts["other"]["placeholders ___"] += len(re.findall(r"_{3,}", text))
            for line in ann.splitlines():
                kind, rest = line.split("\t")[:2]
                label = rest.split(" ")[0]
                key = "entities" if kind.startswith("T") else "relations"
                counts[key][f"{label} {split}"] += 1
                if kind.startswith("T") and ";" in rest:
                    counts["other"]["discontinuous entities"] += 1
    for split, number in HANDOVER_SPLITS.items():
        directory = out / "handover" / split
        _clear(directory, "output*.txt")
        for index in range(HANDOVER_FIRST_NUMBER[split], HANDOVER_FIRST_NUMBER[split] + number):
            text = handover_document(seed, split, index)
            _write(directory / f"output{index}.txt", text)
            counts["files"][f"handover/{split}"] += 1
            for line in text.splitlines():
                if line:
                    fields = line.split("\t")
                    counts["categories"][fields[-2]] += 1
                    counts["other"][f"tokens handover/{split}"] += 1
                    counts["other"]["baseline tokens right"] += fields[-1] == fields[-2]
    _write(out / "README.md", _readme(seed, counts))
    return counts


def _readme(seed: int, counts: dict[str, Counter]) -> str:
    """README.md of the sample: synthetic, how it was written, counts and conventions."""
    files, other = counts["files"], counts["other"]
    entity_rows = "\n".join(
        f"| {label} | {counts['entities'][label + ' train']} | {counts['entities'][label + ' test']} |"
        for label in N2C2_ENTITY_LABELS)
    relation_rows = "\n".join(
        f"| {rel} | {counts['relations'][rel + ' train']} | {counts['relations'][rel + ' test']} |"
        for rel in N2C2_RELATION_TYPES)
    category_rows = "\n".join(f"| `{cat}` | {counts['categories'][cat]} |"
                              for cat in (HANDOVER_OUTSIDE, *HANDOVER_TRAINING_CATEGORIES)
                              if counts["categories"][cat])
    tokens = sum(other[f"tokens handover/{s}"] for s in HANDOVER_SPLITS)
    return f"""# Synthetic sample corpus

**Everything here is synthetic.** No document describes a real patient: every name, date, number,
drug history and handover was invented by the sample generator (`tools/sample/`, a developer
tool outside the installed library), which is deterministic. Regenerate with

    python -m tools.sample assets/sample --seed {seed}

(`tests/tools/test_sample.py` checks that this reproduces these files byte for byte). The files use the
exact formats of the real corpora (see `docs/data-model.md`), so the converters, training and metrics
can run end to end without the licensed data. The numbers mean nothing clinically.

## n2c2 2018 Track 2 layout (`n2c2/`)

Brat standoff, `sample_NNNN.txt` + `sample_NNNN.ann`, in the style of MIMIC-III discharge summaries.
De-identification placeholders hold invented dates, names, hospitals and telephone numbers, in the
header and in running text as MIMIC notes have them (`started on [**2115-2-22**]`,
`Dr. [**Last Name (STitle) 1234**]`, `[**Hospital1 18**]`, some right after an entity or glued to
punctuation or a word): {other['placeholders [**...**]']} MIMIC-III `[**...**]` placeholders;
{" and ".join(f"`{split}/sample_{index:04d}`" for split, index in MIMIC_IV_NOTES)} write MIMIC-IV's `___` instead
({other['placeholders ___']}). The first line of every note says it is synthetic.

| split | notes | words |
| --- | --- | --- |
| train | {files['n2c2/train']} | {other['words n2c2/train']} |
| test | {files['n2c2/test']} | {other['words n2c2/test']} |

Longest note: {other['longest note words']} words (`train/sample_{LONG_NOTE[1]:04d}`).
`train/sample_{CRLF_NOTE[1]:04d}` uses CRLF line endings: offsets count the `\\r` characters
(read the `.txt` with `newline=""`). Discontinuous entities: {other['discontinuous entities']}.

| entity | train | test |
| --- | --- | --- |
{entity_rows}

| relation | train | test |
| --- | --- | --- |
{relation_rows}

Annotation conventions:

- `T3<TAB>Drug 120 129<TAB>metformin`: character offsets into the `.txt`; the text field is the
  slice. `R2<TAB>Strength-Drug Arg1:T5 Arg2:T3`: Arg1 the attribute, Arg2 the Drug.
- An entity that crosses a line break is discontinuous, one fragment a line
  (`Frequency 40 54;55 59<TAB>BID (2 times a day)`): the text field joins the fragments with one
  space. Coordination gives the other discontinuous kind: in "insulin glargine and lispro" the
  second Drug is `insulin` + `lispro`.
- Strength includes its unit and stays whole when written without a space (`5mg`, `81mg`,
  `90 mcg/Actuation`, `5-10 mg`).
- Duration is the length only, without `x` / `for`: `x7days` -> `7days`, `x 5 days` -> `5 days`,
  `for 2 weeks` -> `2 weeks`, `x10d` -> `10d`. This puts an entity boundary inside the
  whitespace token `x7days`.
- Frequency includes `prn` / `as needed` when it follows the frequency (`q4-6h prn`) and the MIMIC
  gloss (`Q6H (every 6 hours)`); a per-day rate keeps its slash: `2-3 tabs/day` -> Dosage `2-3`,
  Form `tabs`, Frequency `/day` (boundaries inside the token `tabs/day`).
- Form: `tab(s)`, `Tablet`, `Capsule, Delayed Release (E.C.)`, `Puff`...; both forms of a MIMIC
  sig line are annotated (`325 mg Tablet Sig: Two (2) Tablet`).
- Dosage is the amount taken: `Two (2)`, `1-2`, `10 units`.
- Reason and ADE are annotated only when linked to a drug. The same words can be both: in
  "presented with hyperkalemia in the setting of lisinopril use and was treated with kayexalate"
  `hyperkalemia` is an ADE (-> lisinopril) and a Reason (-> kayexalate), two entities on one span.
- "Insulin Pen": Drug covers `Insulin Pen`, Form covers `Pen` inside it.
- Reason-Drug relations may cross a sentence or line boundary ("was found to have DVT. Heparin was
  started.").
- Conditions in past medical history, chief complaint and diagnosis are not annotated.

## Nursing handover layout (`handover/`)

One token a line, {HANDOVER_FIELDS} tab-separated fields as in the real Set 1 files: token, lemma, Stanford
NER tag, POS tag, parse path, dependency, governor, relative position, seven ontology-concept fields
(mostly `NONE`), position in sentence, is-number, **gold category (second-to-last)**, organisers'
CRF prediction (last). A blank line separates sentences; files with an even number end with a blank
line, odd ones do not. Categories carry no B-/I- prefix: consecutive tokens with the same category
form one entity; `NA` is outside. The prediction column is a noisy copy of the gold one
({other['baseline tokens right'] / tokens:.0%} of tokens right).

| split | files | tokens |
| --- | --- | --- |
| train | {files['handover/train']} | {other['tokens handover/train']} |
| validation | {files['handover/validation']} | {other['tokens handover/validation']} |
| test | {files['handover/test']} | {other['tokens handover/test']} |

Gold tokens by category (all splits), {len(counts['categories'])} categories including `NA`:

| category | tokens |
| --- | --- |
{category_rows}
"""
