"""Files: safe YAML with line numbers (`yamlfile`), atomic output files (`files`)."""
