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
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
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


@cache
def _fast_core(name: str):
    """riptoken's BPE over the same ranks, pattern and special tokens as get_encoding(name): about 1.6 times
    tiktoken's speed on one core, and the same ids for every pre-token piece shorter than 500 bytes (see
    _texts_with_long_runs). None when riptoken is not installed."""
    try:
        from riptoken import CoreBPE
    except ImportError:
        return None
    encoding = get_encoding(name)
    # the constructor arguments tiktoken.Encoding keeps (it has no public accessor for the ranks and pattern)
    return CoreBPE(encoding._mergeable_ranks, encoding._special_tokens, encoding._pat_str)


def count_tokens(texts: list[str], name: str = DEFAULT_ENCODING, threads: int = 2) -> list[int]:
    """Token counts of `texts`, in order. Each distinct text is encoded once (repeats reuse its count), on
    `threads` cores: the Rust encoders release the GIL while they encode, so a thread pool over a few
    large chunks uses both cores without paying a thread hand-off per text."""
    return _encode(texts, name, threads, lengths_only=True)


def encode_texts(texts: list[str], name: str = DEFAULT_ENCODING, threads: int = 2) -> list[list[int]]:
    """Token ids of `texts` through the same de-duplicating, threaded path as count_tokens (identical to
    tiktoken's `encode_ordinary` of the same encoding: special tokens are plain text)."""
    return list(_encode(texts, name, threads, lengths_only=False))


# bytes: riptoken merges pieces this long on a heap, and there its ids can differ from tiktoken's
_FAST_PIECE_LIMIT = 500
# below this much distinct text, building riptoken's tables (~0.3 s, once) costs more than it saves
_FAST_MIN_CHARS = 2_000_000


def _texts_with_long_runs(texts: list[str], batch_chars: int = 8_000_000) -> list[int]:
    """Positions of the texts that may hold a pre-token piece of _FAST_PIECE_LIMIT bytes or more. A piece
    of the o200k/cl100k patterns is either all whitespace, or one character followed by characters that
    are not spaces or tabs; so it lies in a run of at least LIMIT - 4 bytes that are all whitespace bytes
    (a superset: ASCII up to the space, and every non-ASCII byte) or all neither space nor tab. Those runs
    are found by a few vector passes over the UTF-8 of many texts at once, in batches of about
    `batch_chars` characters so that memory stays a few times one batch."""
    found: list[int] = []
    first = size = 0
    for end, text in enumerate(texts, 1):
        size += len(text)
        if size >= batch_chars or end == len(texts):
            found += [first + k for k in _long_runs_in_batch(texts[first:end])]
            first, size = end, 0
    return found


def _long_runs_in_batch(texts: list[str]) -> list[int]:
    import numpy as np

    run = _FAST_PIECE_LIMIT - 4
    # after the Rust encoders have read a text, its UTF-8 is cached on the str and this is a copy
    data = [text.encode("utf-8", "surrogatepass") for text in texts]
    # " A" between texts: the space ends runs without blanks, the letter whitespace runs; no run spans two texts
    joined = np.frombuffer(b" A".join(data), np.uint8)
    starts = np.cumsum([0] + [len(chunk) + 2 for chunk in data[:-1]])
    found: set[int] = set()
    for in_run in ((joined != 0x20) & (joined != 0x09), (joined - np.uint8(0x21)) >= 0x5F):
        # a run of `run` bytes holds a whole aligned block of run // 2: most inputs have none, and stop here
        block = run // 2
        if not np.logical_and.reduce(in_run[: len(in_run) // block * block].reshape(-1, block), axis=1).any():
            continue
        covered = 1  # in_run[i] becomes: the `covered` bytes from i are all in the run's class
        while covered < run:
            step = min(covered, run - covered)
            in_run = in_run[:-step] & in_run[step:]
            covered += step
        # each run is placed by its last byte: it may begin on the separator byte before a text
        ends = np.flatnonzero(in_run) + (run - 1)
        found.update((np.searchsorted(starts, ends, side="right") - 1).tolist())
    return sorted(found)


def _pooled(work, items: list, threads: int) -> list:
    """work(chunk) -> one result per item of chunk, over `threads` threads; results in the order of items."""
    workers = max(1, min(threads, len(items)))
    if workers == 1:
        return work(items)
    from concurrent.futures import ThreadPoolExecutor

    # Interleaved chunks (every n-th item) balance long and short texts across the workers.
    n_chunks = workers * 4 if len(items) >= workers * 4 else workers
    chunks = [items[k::n_chunks] for k in range(n_chunks)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(work, chunks))
    results = [None] * len(items)
    for k, chunk_result in enumerate(done):
        results[k::n_chunks] = chunk_result
    return results


def _encode(texts: list[str], name: str, threads: int, *, lengths_only: bool) -> list:
    if not texts:
        return []
    slot: dict[str, int] = {}
    positions = [slot.setdefault(text, len(slot)) for text in texts]
    distinct = list(slot)
    encoding = get_encoding(name)
    fast = _fast_core(name) if sum(map(len, distinct)) >= _FAST_MIN_CHARS else None

    def encoder(encode_ordinary):
        if lengths_only:
            return lambda chunk: [len(encode_ordinary(text)) for text in chunk]
        return lambda chunk: [encode_ordinary(text) for text in chunk]

    if fast is None:
        results = _pooled(encoder(encoding.encode_ordinary), distinct, threads)
    else:

        def fast_encode_ordinary(text: str) -> list[int]:
            try:
                return fast.encode_ordinary(text)
            except UnicodeEncodeError:  # lone surrogates: tiktoken's own wrapper replaces them with U+FFFD
                return encoding.encode_ordinary(text)

        results = _pooled(encoder(fast_encode_ordinary), distinct, threads)
        # texts that may hold a piece where riptoken's ids could differ: tiktoken's ids instead
        recheck = _texts_with_long_runs(distinct)
        for k, result in zip(
            recheck, _pooled(encoder(encoding.encode_ordinary), [distinct[k] for k in recheck], threads)
        ):
            results[k] = result
    return [results[p] for p in positions]
