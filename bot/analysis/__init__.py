"""Log mining and trace analysis, and the reports built from them."""
