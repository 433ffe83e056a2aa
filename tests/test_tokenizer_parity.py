"""The fast encoder (riptoken over the bundled ranks) gives exactly tiktoken's token ids, including the long
pre-token pieces where riptoken on its own does not, and lone surrogates, special-token strings, unicode."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costlens.fingerprint import tokenizer

ENCODINGS = ["o200k_base", "cl100k_base"]


@pytest.fixture(autouse=True)
def fast_path_for_any_size(monkeypatch):
    # in use, riptoken starts at a few MB of distinct text; these small inputs must take its path too
    monkeypatch.setattr(tokenizer, "_FAST_MIN_CHARS", 0)


TRICKY = [
    "",
    "hello world",
    "<|endoftext|><|endofprompt|><|fim_prefix|><|im_start|>user",
    "I'm sure it's they'LL we'VE you'd He'S",
    "réponse naïve — 数据分析 🙂👍🏽👨‍👩‍👧🇫🇷 ❤️ ǅemo ʰmod",
    "عربى עברית ไทย हिन्दी русский 한국어 日本語",
    "tabs\t\tand\u00a0nbsp\u3000ideographic\u2028line sep\u2029para\x85nel",
    "trailing spaces   \n\n   \r\n\t  ",
    "   leading",
    "x\x00y\x01z\x7f\x1c\x1d\x1e\x1f",
    "1234567890 ²³½ Ⅻ ٣৪ 3.14159e-10",
    '{"role":"system","content":"You are careful.\\n"}',
    "https://example.com/a/b/c?d=1&e=2#frag",
]

# pieces of 500 bytes and more, where riptoken's heap merge would pick other ids
LONG = (
    ["Z" * n for n in (495, 500, 501, 650)]
    + ["ab" * 251, " " * 601 + "x", "\t" * 700, "\n" * 520, "-" * 800, "=" * 501, "\n/" * 300]
    + ["é" * 250, "数据" * 90, "🙂" * 130, "prefix " + "q" * 700 + " suffix", "a b " * 200]
)


def _tiktoken_ids(name: str, texts: list[str]) -> list[list[int]]:
    encoding = tokenizer.get_encoding(name)
    return [encoding.encode_ordinary(text) for text in texts]


def test_the_fast_encoder_is_in_use():
    assert tokenizer._fast_core("o200k_base") is not None
    assert tokenizer._fast_core("cl100k_base") is not None


@pytest.mark.parametrize("name", ENCODINGS)
def test_tricky_and_long_texts_match_tiktoken(name):
    texts = TRICKY + LONG
    expected = _tiktoken_ids(name, texts)
    assert tokenizer.encode_texts(texts, name, threads=2) == expected
    assert tokenizer.encode_texts(texts, name, threads=1) == expected
    assert tokenizer.count_tokens(texts, name, threads=2) == [len(ids) for ids in expected]


@pytest.mark.parametrize("name", ENCODINGS)
def test_riptoken_alone_differs_on_long_pieces(name):
    # what the long-run check guards against: without it, these texts would get other ids
    fast = tokenizer._fast_core(name)
    expected = _tiktoken_ids(name, LONG)
    assert any(fast.encode_ordinary(text) != ids for text, ids in zip(LONG, expected))
    # and below 500 bytes it agrees, so those texts can stay on the fast path
    short = ["Z" * 499, "ab" * 249, " " * 400 + "x", "é" * 249]
    assert [fast.encode_ordinary(text) for text in short] == _tiktoken_ids(name, short)


def test_long_runs_are_found_per_text():
    texts = [
        "a b",
        "x" * 600,
        "c d",
        " " * 600,
        "\u3000" * 200,
        "é" * 240,
        "é" * 250,
        "ab " * 300,
        "\n/" * 300,
        "q\t" * 400,
        "\u3000 " * 300,
        "y" * 400,
    ]
    assert tokenizer._texts_with_long_runs(texts) == [1, 3, 4, 6, 8, 10]
    # in batches (one text each, or a few): the same positions
    assert tokenizer._texts_with_long_runs(texts, batch_chars=1) == [1, 3, 4, 6, 8, 10]
    assert tokenizer._texts_with_long_runs(texts, batch_chars=700) == [1, 3, 4, 6, 8, 10]
    assert tokenizer._texts_with_long_runs(["x" * 600]) == [0]
    assert tokenizer._texts_with_long_runs(["", "a"]) == []


@pytest.mark.parametrize("name", ENCODINGS)
def test_lone_surrogates_are_replaced_as_tiktoken_does(name):
    texts = ["a\udc80b", "\ud83d alone", "fine"]
    assert tokenizer.encode_texts(texts, name) == _tiktoken_ids(name, texts)


def test_many_random_word_texts_match_tiktoken():
    rng = random.Random(3)
    words = (
        "the customer asked about invoice réponse données naïve 数据 🙂 2026-10-01 {'json': true} <tag> "
        "12345 0.75 SELECT * FROM calls <|endoftext|> \n\n \t"
    ).split(" ")
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 400))) for _ in range(300)]
    expected = _tiktoken_ids("o200k_base", texts)
    assert tokenizer.count_tokens(texts, threads=2) == [len(ids) for ids in expected]
    assert tokenizer.encode_texts(texts, threads=2) == expected


ALPHABET = st.sampled_from(
    list(
        " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u200b\u2028\u3000\x1c"
        "aAzZéÉßǅʰ'’\"sStTdDlLrRvV0123456789²½Ⅻ٣数据한ไهि\u0301\u0308"
        "🙂👍🏽\u200d\ufe0f!?.,;:-_/\\|@#$%^&*()[]{}<>~+=\x00\x7f\ufffd"
    )
)
PIECES = st.one_of(
    st.text(ALPHABET, max_size=30),
    st.sampled_from(["<|endoftext|>", "<|endofprompt|>", "'s", "'LL", " 're"]),
    st.builds(lambda char, n: char * n, st.sampled_from(["Z", " ", "-", "é", "\n", "ab"]), st.integers(1, 700)),
    st.text(max_size=20),
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(PIECES, max_size=8).map("".join), min_size=1, max_size=6), st.sampled_from(ENCODINGS))
def test_generated_texts_match_tiktoken(texts, name):
    assert tokenizer.encode_texts(texts, name, threads=2) == _tiktoken_ids(name, texts)
