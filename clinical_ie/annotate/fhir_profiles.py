"""The StructureDefinitions (FHIR R4) of the extensions the FHIR output uses, and their canonical base.

``structure_definitions/`` beside this module holds one JSON StructureDefinition per extension of
:mod:`.fhir` (``drug-mention``, ``attribute-mention``, ``annotation-error``) under
:data:`DEFAULT_FHIR_BASE`. A deploying site sets its own canonical base (``annotate --fhir-base``,
recorded in the manifest): :func:`with_base` moves a Bundle's extension URLs under it and
:func:`structure_definitions` gives the definitions a FHIR validator then needs, under the same
base.
"""

import json
import re
from pathlib import Path
from typing import Dict, List

DEFAULT_FHIR_BASE = "https://github.com/en-clinical-ie/fhir"
"""The canonical base of the shipped StructureDefinitions (their URLs are ``<base>/StructureDefinition/<id>``)."""
STRUCTURE_DEFINITIONS_DIR = Path(__file__).with_name("structure_definitions")
STRUCTURE_DEFINITIONS_FOLDER = "structure-definitions"
"""The folder of an ``annotate --format fhir`` output holding the run's StructureDefinitions."""
_CANONICAL_KEYS = ("url", "fixedUri")
_BASE_PATTERN = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")


def check_fhir_base(base: str) -> str:
    """``base`` without a trailing ``/`` if it is an absolute http(s) URL with no query or
    fragment, else ValueError."""
    if not isinstance(base, str) or not _BASE_PATTERN.fullmatch(base):
        raise ValueError(f"FHIR canonical base {base!r} is not an absolute http(s) URL without query or fragment")
    return base.rstrip("/")


def extension_url(base: str, name: str) -> str:
    """The canonical URL of extension ``name`` under ``base``."""
    return f"{check_fhir_base(base)}/StructureDefinition/{name}"


def with_base(resource, base: str):
    """``resource`` (JSON: dicts and lists) with every ``url`` / ``fixedUri`` under the default
    base moved under ``base``; the same object when ``base`` is the default."""
    base = check_fhir_base(base)
    if base == DEFAULT_FHIR_BASE:
        return resource
    prefix = DEFAULT_FHIR_BASE + "/"

    def moved(value, key=None):
        if isinstance(value, dict):
            return {k: moved(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [moved(item) for item in value]
        if key in _CANONICAL_KEYS and isinstance(value, str) and value.startswith(prefix):
            return base + "/" + value[len(prefix):]
        return value

    return moved(resource)


def structure_definitions(base: str = DEFAULT_FHIR_BASE) -> Dict[str, dict]:
    """The shipped StructureDefinitions under ``base``, by canonical URL."""
    definitions = [
        with_base(json.loads(path.read_text(encoding="utf8")), base)
        for path in sorted(STRUCTURE_DEFINITIONS_DIR.glob("StructureDefinition-*.json"))
    ]
    return {definition["url"]: definition for definition in definitions}


def write_structure_definitions(folder: Path, base: str = DEFAULT_FHIR_BASE) -> List[Path]:
    """Write :func:`structure_definitions` of ``base`` into ``folder`` as
    ``StructureDefinition-<id>.json``, the layout FHIR validators load; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for definition in structure_definitions(base).values():
        path = folder / f"StructureDefinition-{definition['id']}.json"
        path.write_text(json.dumps(definition, indent=2) + "\n", encoding="utf8")
        paths.append(path)
    return paths
