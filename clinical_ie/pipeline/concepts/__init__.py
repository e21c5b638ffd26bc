"""``clinical_concept_linker``: Drug spans coded from a vocabulary the user supplies (OHDSI Athena
export or RxNorm ``RXNCONSO.RRF``), through a compact index saved with the pipeline."""
