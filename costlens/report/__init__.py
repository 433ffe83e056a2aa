"""The Report model, how it is built from the database, and its renderers."""
