"""Finding out what is wrong: the investigator, the Claude agent (`agent/`), the deterministic
pattern engine (`patterns/`) and the finding's Block Kit.
"""
