"""Publish the study's tables: monthly age-standardised benefit receipt, with disclosure control."""
