"""Investigation: shared models, evidence as people read it, and where raw evidence is kept."""
