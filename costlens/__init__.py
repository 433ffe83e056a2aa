"""costlens: offline unit economics for LLM usage."""

__version__ = "0.1.0"
