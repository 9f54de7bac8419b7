"""The bodies of rankkd's command-line tools (``scripts/*.py`` and the ``rankkd`` command are thin wrappers)."""
