"""Aegis ``file`` ingress: resumable replay of JSONL, CSV and PaySim files."""
