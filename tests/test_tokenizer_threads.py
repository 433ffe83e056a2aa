"""The threaded, de-duplicating token counter gives exactly tiktoken's token ids, and counts each text once."""

from __future__ import annotations

import threading
import time

import pytest

from costlens.fingerprint import tokenizer

TEXTS = [
    "hello world",
    "",
    "   leading and trailing   ",
    "<|endoftext|> is plain text here, as encode_ordinary treats it",
    "réponse naïve — 数据分析 🙂🙂 emoji and CJK",
    "line one\nline two\r\n\ttabbed\n\n\n",
    '{"role": "system", "content": "You are a careful assistant."}',
    "1234567890 3.14159 2026-10-01T00:00:00Z",
    "word " * 3000,
    "hello world",  # a repeat
]


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_threaded_ids_equal_tiktoken_encode_ordinary(name):
    encoding = tokenizer.get_encoding(name)
    expected = [encoding.encode_ordinary(text) for text in TEXTS]
    assert tokenizer.encode_texts(TEXTS, name, threads=2) == expected
    assert tokenizer.encode_texts(TEXTS, name, threads=1) == expected
    assert tokenizer.count_tokens(TEXTS, name, threads=2) == [len(ids) for ids in expected]


def test_known_token_ids():
    # Published ids for "hello world" (tiktoken's own examples / the OpenAI tokenizer page).
    assert tokenizer.encode_texts(["hello world"], "cl100k_base") == [[15339, 1917]]
    assert tokenizer.encode_texts(["hello world"], "o200k_base") == [[24912, 2375]]


def test_many_texts_keep_their_order():
    texts = [f"text number {i} " + "x" * (i % 37) for i in range(500)]
    encoding = tokenizer.get_encoding()
    assert tokenizer.count_tokens(texts, threads=2) == [len(encoding.encode_ordinary(t)) for t in texts]


class _CountingEncoding:
    """Stands in for a tiktoken Encoding: records each text encoded and the thread that encoded it."""

    def __init__(self):
        self.seen: list[str] = []
        self.threads: set[int] = set()
        self._lock = threading.Lock()

    def encode_ordinary(self, text: str) -> list[int]:
        time.sleep(0.002)  # long enough for both pool threads to pick up chunks
        with self._lock:
            self.seen.append(text)
            self.threads.add(threading.get_ident())
        return [0] * len(text)


@pytest.mark.parametrize("fast_from_chars", [0, None], ids=["fast-path", "tiktoken-path"])
def test_each_distinct_text_is_encoded_once_on_two_threads(monkeypatch, fast_from_chars):
    fake = _CountingEncoding()
    monkeypatch.setattr(tokenizer, "get_encoding", lambda name=tokenizer.DEFAULT_ENCODING: fake)
    monkeypatch.setattr(tokenizer, "_fast_core", lambda name: fake)
    if fast_from_chars is not None:
        monkeypatch.setattr(tokenizer, "_FAST_MIN_CHARS", fast_from_chars)
    distinct = [f"prefix {i}" * (1 + i % 5) for i in range(40)]
    texts = distinct * 3 + distinct[:7]
    counts = tokenizer.count_tokens(texts, threads=2)
    assert counts == [len(t) for t in texts]
    assert sorted(fake.seen) == sorted(distinct)
    assert len(fake.threads) == 2


def test_empty_input():
    assert tokenizer.count_tokens([]) == []
    assert tokenizer.encode_texts([]) == []
