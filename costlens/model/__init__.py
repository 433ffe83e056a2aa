"""The typed models every layer shares: the report (`report`) and the reconciliation (`reconcile`). They import
nothing of costlens, so the analyses that fill them and the renderers that read them depend on them, never on
each other (docs/architecture.md, "Layers")."""
