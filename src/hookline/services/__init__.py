"""The use-cases every entry point calls: the rules of hookline, above the store."""
