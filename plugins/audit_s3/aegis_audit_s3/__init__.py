"""Aegis ``s3`` audit sink: hash-chained records as write-once S3 objects."""
