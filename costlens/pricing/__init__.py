"""Pricing: the genai-prices catalog (plus config overrides) resolved into `price_book`, joined in SQL."""

from costlens.pricing.book import build_price_book
from costlens.pricing.catalog import (
    CANONICAL_TO_CATALOG,
    CATALOG_SOURCE,
    VARIANT_CONTEXT,
    PriceBookSummary,
    create_priced_calls_view,
    explain,
    install_macros,
)
from costlens.pricing.config import PricesConfigError, parse_prices_config

__all__ = [
    "CANONICAL_TO_CATALOG",
    "CATALOG_SOURCE",
    "VARIANT_CONTEXT",
    "PriceBookSummary",
    "PricesConfigError",
    "build_price_book",
    "create_priced_calls_view",
    "explain",
    "install_macros",
    "parse_prices_config",
]
