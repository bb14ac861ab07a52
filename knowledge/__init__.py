"""The curated knowledge: entries, settings, synonyms, the law corpus and the matcher."""
