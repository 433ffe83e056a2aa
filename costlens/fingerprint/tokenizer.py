"""Offline tiktoken encodings: the rank files ship inside costlens, verified against tiktoken's own hashes.

tiktoken normally downloads its rank files on first use. Here its own encoding constructors
(tiktoken_ext.openai_public) are called with a loader that reads the bundled file instead, so the pattern and
special tokens are tiktoken's and the bytes are checked against the SHA-256 tiktoken publishes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

DEFAULT_ENCODING = "o200k_base"
BUNDLED = {"o200k_base": "o200k_base.tiktoken.gz", "cl100k_base": "cl100k_base.tiktoken.gz"}
_lock = threading.Lock()


class EncodingIntegrityError(RuntimeError):
    pass


def _bundled_ranks(name: str, expected_hash: str | None) -> dict[bytes, int]:
    data = gzip.decompress((resources.files("costlens.data") / BUNDLED[name]).read_bytes())
    actual = hashlib.sha256(data).hexdigest()
    if expected_hash and actual != expected_hash:
        raise EncodingIntegrityError(f"bundled {name} does not match tiktoken's published SHA-256 ({actual})")
    return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines() if line)}


@cache
def get_encoding(name: str = DEFAULT_ENCODING) -> "tiktoken.Encoding":
    """A tiktoken Encoding built from the bundled ranks; never touches the network."""
    import tiktoken
    from tiktoken_ext import openai_public

    if name not in BUNDLED:
        raise ValueError(f"encoding {name!r} is not bundled; use one of {sorted(BUNDLED)}")
    with _lock:
        original = openai_public.load_tiktoken_bpe

        def local_loader(_url: str, expected_hash: str | None = None) -> dict[bytes, int]:
            return _bundled_ranks(name, expected_hash)

        openai_public.load_tiktoken_bpe = local_loader
        try:
            constructor = getattr(openai_public, name)()
        finally:
            openai_public.load_tiktoken_bpe = original
    return tiktoken.Encoding(**constructor)


def count_tokens(texts: list[str], name: str = DEFAULT_ENCODING, threads: int = 2) -> list[int]:
    """Token counts of `texts`, in order. Each distinct text is encoded once (repeats reuse its count), on
    `threads` cores: tiktoken's Rust core releases the GIL while it encodes, so a thread pool over a few
    large chunks uses both cores without paying a thread hand-off per text."""
    return _encode(texts, name, threads, lengths_only=True)


def encode_texts(texts: list[str], name: str = DEFAULT_ENCODING, threads: int = 2) -> list[list[int]]:
    """Token ids of `texts` through the same de-duplicating, threaded path as count_tokens (identical to
    `encode_ordinary` of the same encoding: special tokens are plain text)."""
    return list(_encode(texts, name, threads, lengths_only=False))


def _encode(texts: list[str], name: str, threads: int, *, lengths_only: bool) -> list:
    if not texts:
        return []
    encoding = get_encoding(name)
    slot: dict[str, int] = {}
    positions = [slot.setdefault(text, len(slot)) for text in texts]
    distinct = list(slot)
    if lengths_only:
        def work(chunk: list[str]) -> list:
            return [len(encoding.encode_ordinary(text)) for text in chunk]
    else:
        def work(chunk: list[str]) -> list:
            return [encoding.encode_ordinary(text) for text in chunk]
    workers = max(1, min(threads, len(distinct)))
    if workers == 1:
        results = work(distinct)
    else:
        from concurrent.futures import ThreadPoolExecutor

        # Interleaved chunks (every n-th text) balance long and short texts across the workers.
        n_chunks = workers * 4 if len(distinct) >= workers * 4 else workers
        chunks = [distinct[k::n_chunks] for k in range(n_chunks)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(work, chunks))
        results = [None] * len(distinct)
        for k, chunk_result in enumerate(done):
            results[k::n_chunks] = chunk_result
    return [results[p] for p in positions]
