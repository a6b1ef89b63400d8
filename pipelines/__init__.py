"""Dagster wiring and the ``reentry`` command line. Domain logic lives in assets/ and validation/."""
