"""List readers: one module per file format, found through the ``aegis_sanctions.readers`` entry points."""
