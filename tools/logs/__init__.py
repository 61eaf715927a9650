"""Log search tools over Elasticsearch/OpenSearch: search, top errors and error histograms,
with the query DSL built here, caps on lines and links to the log UI."""
