"""en_clinical_ie: clinical information extraction with spaCy."""

from .extensions import register_extensions

__version__ = "0.1.0"

register_extensions()
