"""The synthetic sample corpus (n2c2 brat + nursing handover): :func:`write_sample`."""

from .generator import HANDOVER_FIELDS, write_sample

__all__ = ["HANDOVER_FIELDS", "write_sample"]
