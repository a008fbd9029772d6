"""Aegis sanctions screening: OFAC and UN lists, fuzzy and cross-script name matching, explanations."""
