"""Benchmarks: scripts that measure and print a table and JSON (run from the project root)."""
