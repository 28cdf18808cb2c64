"""Hezhou reference data and the deterministic demo data set."""
