"""Groth16 (BN254) consortium risk signals for Aegis."""
