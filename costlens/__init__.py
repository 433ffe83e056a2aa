"""costlens: offline unit economics for LLM usage."""

__version__ = "0.1.0"

# The distribution's name on package indexes. `costlens` on PyPI is an unrelated project, so every install
# instruction names this one; until a release is published it is installed from the source repository.
DISTRIBUTION = "llm-costlens"
UPGRADE_HINT = (
    f'upgrade costlens (reinstall the {DISTRIBUTION} distribution, README "Install"; '
    f"`costlens` on PyPI is another project)"
)
