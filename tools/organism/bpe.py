"""Byte-level BPE tokenizer (GPT-2 / Qwen style): trainer, encoder, decoder, tokenizer.json writer.

The encoder follows the Hugging Face `tokenizers` pipeline for the file this module writes
(spec: tokenizers-and-chat-templates.md §4):
  1. special tokens (<|endoftext|>, <|im_start|>, <|im_end|>) are cut out of the raw text first,
     leftmost-longest;
  2. each gap is split by the GPT-2 regex (Split, behaviour "Isolated");
  3. each piece's UTF-8 bytes are mapped to the GPT-2 byte characters (ByteLevel, use_regex false);
  4. BPE: start from single byte characters and repeatedly merge the adjacent pair with the lowest
     merge rank (leftmost on ties), as the Rust crate's priority queue does.
tools/organism/check_tokenizer.js compares this encoder with the real Rust implementation.
"""

import collections
import heapq
import json

import regex

# GPT-2's pre-tokenizer pattern (the one ByteLevel uses when use_regex is true).
GPT2_SPLIT_PATTERN = (r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def bytes_to_unicode():
    """GPT-2's reversible map from the 256 byte values to printable characters."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
                 list(range(ord("®"), ord("ÿ") + 1)))
    mapping = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shifted)
            shifted += 1
    return mapping


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}
_SPLIT_RE = regex.compile(GPT2_SPLIT_PATTERN)


def split_special(text):
    """Yields (is_special, segment) in order; special tokens matched leftmost-longest."""
    pos = 0
    while pos < len(text):
        best = None
        for token in SPECIAL_TOKENS:
            at = text.find(token, pos)
            if at >= 0 and (best is None or at < best[0] or (at == best[0] and len(token) > len(best[1]))):
                best = (at, token)
        if best is None:
            yield False, text[pos:]
            return
        at, token = best
        if at > pos:
            yield False, text[pos:at]
        yield True, token
        pos = at + len(token)


def pre_tokenize(segment):
    """GPT-2 regex split, then ByteLevel character mapping of each piece."""
    return ["".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))
            for piece in _SPLIT_RE.findall(segment)]


def train_bpe(texts, n_merges):
    """Learns up to n_merges merges from the word counts of `texts` (special tokens excluded).

    Each step merges the most frequent adjacent pair; ties between equally frequent pairs are
    broken by the pair's strings, so training is a pure function of the input. Pair counts are
    kept up to date incrementally (only the words that contain the merged pair are recounted), and
    a heap with stale entries skipped finds the best pair.
    """
    word_counts = collections.Counter()
    for text in texts:
        for is_special, segment in split_special(text):
            if not is_special:
                word_counts.update(pre_tokenize(segment))
    words = [list(w) for w in sorted(word_counts)]
    counts = [word_counts[w] for w in sorted(word_counts)]
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for index, symbols in enumerate(words):
        for pair in zip(symbols, symbols[1:]):
            pair_counts[pair] += counts[index]
            where[pair].add(index)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        negative, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative:
            continue  # stale entry: the pair's count changed since it was pushed
        if -negative < 2:
            break
        a, b = pair
        merges.append(pair)
        changed = set()
        for index in sorted(where.pop(pair)):
            symbols, count = words[index], counts[index]
            for old in zip(symbols, symbols[1:]):
                pair_counts[old] -= count
                changed.add(old)
            i, merged = 0, []
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            words[index] = merged
            for new in zip(merged, merged[1:]):
                pair_counts[new] += count
                where[new].add(index)
                changed.add(new)
        for p in changed:
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
            else:
                del pair_counts[p]
                where.pop(p, None)
    return merges


class ByteLevelBPE:
    """Vocabulary: ids 0..255 are the byte characters (by byte value), then one id per merge in
    merge order, then the special tokens (like Qwen, specials live outside the BPE vocab)."""

    def __init__(self, merges):
        self.merges = list(merges)
        self.vocab = {BYTE_TO_CHAR[b]: b for b in range(256)}
        for a, b in self.merges:
            self.vocab[a + b] = len(self.vocab)
        self.special_ids = {}
        for token in SPECIAL_TOKENS:
            self.special_ids[token] = len(self.vocab) + len(self.special_ids)
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.id_to_token.update({i: t for t, i in self.special_ids.items()})
        self._cache = {}

    @property
    def vocab_size(self):
        return len(self.vocab) + len(self.special_ids)

    def _bpe(self, piece):
        cached = self._cache.get(piece)
        if cached is None:
            cached = self._cache[piece] = self._merge(piece)
        return cached

    def _merge(self, piece):
        symbols = list(piece)
        while len(symbols) > 1:
            best_rank, best_at = None, None
            for i in range(len(symbols) - 1):
                rank = self.ranks.get((symbols[i], symbols[i + 1]))
                if rank is not None and (best_rank is None or rank < best_rank):
                    best_rank, best_at = rank, i
            if best_rank is None:
                break
            symbols[best_at:best_at + 2] = [symbols[best_at] + symbols[best_at + 1]]
        return [self.vocab[s] for s in symbols]

    def encode(self, text):
        ids = []
        for is_special, segment in split_special(text):
            if is_special:
                ids.append(self.special_ids[segment])
            else:
                for piece in pre_tokenize(segment):
                    ids.extend(self._bpe(piece))
        return ids

    def decode(self, ids, skip_special_tokens=False):
        out = []
        pending = bytearray()
        for i in ids:
            token = self.id_to_token[i]
            if token in self.special_ids:
                out.append(pending.decode("utf-8", errors="replace"))
                pending = bytearray()
                if not skip_special_tokens:
                    out.append(token)
            else:
                pending.extend(CHAR_TO_BYTE[c] for c in token)
        out.append(pending.decode("utf-8", errors="replace"))
        return "".join(out)

    def tokenizer_json(self):
        """The tokenizer.json document (dict) for the Hugging Face `tokenizers` library."""
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                      "use_regex": False}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": self.special_ids[t], "content": t, "single_word": False, "lstrip": False,
                 "rstrip": False, "normalized": False, "special": True}
                for t in SPECIAL_TOKENS
            ],
            "normalizer": None,
            "pre_tokenizer": {
                "type": "Sequence",
                "pretokenizers": [
                    {"type": "Split", "pattern": {"Regex": GPT2_SPLIT_PATTERN},
                     "behavior": "Isolated", "invert": False},
                    byte_level,
                ],
            },
            "post_processor": dict(byte_level),
            "decoder": dict(byte_level),
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": None,
                "end_of_word_suffix": None,
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": self.vocab,
                "merges": [f"{a} {b}" for a, b in self.merges],
            },
        }

    def write(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.tokenizer_json(), f, ensure_ascii=False, indent=1)
            f.write("\n")
