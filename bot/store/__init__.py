"""The durable store: sqlmodel tables, the engine, migrations."""
