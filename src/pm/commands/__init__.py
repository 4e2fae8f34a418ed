"""Subcommands of the ``pm`` CLI, one module each (see :mod:`pm.cli`)."""
