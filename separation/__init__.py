"""The separation stage: identifiers are replaced by keyed pseudonyms before the analysis, so
the analysis reads attributes and pseudonymous ids only (the separation principle)."""
