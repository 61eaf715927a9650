"""The append-only, hash-chained audit log: writing, verifying, exporting, archiving."""
