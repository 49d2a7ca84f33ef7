"""The core: turns, tool schemas, codecs, data files, the hotel store, bookings, atomic storage, errors.

Imports nothing above it (enforced by the import-linter contract in pyproject.toml)."""
