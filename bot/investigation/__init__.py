"""Investigations: what a question or an incident asks of opsbot, and how it is answered."""
