"""Content fingerprints: prompt and prefix hashes, and prefix token counts, without storing the text."""
