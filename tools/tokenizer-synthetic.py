#!/usr/bin/env python3
"""Writes small hand-made tokenizer.json files that exercise the components the six real
tokenizers do not use (Metaspace, Digits, Whitespace/WhitespaceSplit, Lowercase/NFKC/Strip,
added-token lstrip/rstrip/single_word/normalized, unk without fuse_unk, string Split
behaviours, GPT-2 style ByteLevel with its regex and prefix space, continuing_subword_prefix,
Bert-style templates, no decoder). Their goldens come from HF tokenizers like the real ones:

    python3 tools/tokenizer-synthetic.py tests/fixtures/tokenizer/synthetic
    for t in metaspace digits gpt2; do
      node tools/tokenizer-goldens.js tests/fixtures/tokenizer/synthetic/$t \
        tests/fixtures/tokenizer/cases_synthetic.json > tests/fixtures/tokenizer/goldens_synthetic_$t.jsonl
    done
"""
import json
import os
import sys


def byte_level_chars():
    """GPT-2's byte -> character table."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def added(content, id_, special=False, lstrip=False, rstrip=False, normalized=False, single_word=False):
    return {"id": id_, "content": content, "single_word": single_word, "lstrip": lstrip,
            "rstrip": rstrip, "normalized": normalized, "special": special}


def bpe(vocab_tokens, merges, **options):
    vocab = {}
    for token in vocab_tokens:
        vocab.setdefault(token, len(vocab))
    for left, right in merges:
        vocab.setdefault(left + right.removeprefix(options.get("continuing_subword_prefix") or ""), len(vocab))
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
             "ignore_merges": False, "vocab": vocab, "merges": [list(m) for m in merges]}
    model.update(options)
    return model


def tokenizer(model, added_tokens=(), normalizer=None, pre_tokenizer=None, post_processor=None, decoder=None):
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": list(added_tokens),
            "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": post_processor,
            "decoder": decoder, "model": model}


letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]

# 1. SentencePiece style with Metaspace (prepend_scheme "first"), byte fallback, fused unk.
#    Its added tokens carry ids 400.. on purpose: HF ignores them and numbers them after the
#    vocabulary (329..), which the tests check.
meta_vocab = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + ["▁"] + letters + list(".,!?")
meta_merges = [("▁", "t"), ("h", "e"), ("▁t", "he"), ("▁", "a"), ("l", "l"), ("▁", "h"), ("e", "ll"),
               ("▁h", "ell"), ("o", "r"), ("▁", "w"), ("▁w", "or"), ("l", "d"), ("▁wor", "ld")]
metaspace = tokenizer(
    bpe(meta_vocab, meta_merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True),
    added_tokens=[added("<unk>", 0, special=True), added("<s>", 1, special=True), added("</s>", 2, special=True),
                  added("<mask>", 400, special=True, lstrip=True), added("<sep>", 401, special=True, rstrip=True),
                  added("[W]", 402, single_word=True), added("tok", 403, normalized=True)],
    normalizer={"type": "NFKC"},
    pre_tokenizer={"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True},
    post_processor={"type": "TemplateProcessing",
                    "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                               {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                    "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                    "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                                       "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
    decoder={"type": "Sequence", "decoders": [{"type": "ByteFallback"},
                                              {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True}]})

# 2. Word-level style: lower-casing, digits, whitespace split, unk without fusing, "##" prefix,
#    Bert-like template, no decoder (tokens joined by spaces).
digits_vocab = ["[UNK]", "[CLS]", "[SEP]"] + letters[:26] + [str(d) for d in range(10)] + list(".,!?-") + \
               ["##" + c for c in letters[:26]]
digits_merges = [("t", "##h"), ("th", "##e"), ("a", "##n"), ("an", "##d"), ("i", "##s")]
digits = tokenizer(
    bpe(digits_vocab, digits_merges, unk_token="[UNK]", continuing_subword_prefix="##"),
    added_tokens=[added("[UNK]", 0, special=True), added("[CLS]", 1, special=True), added("[SEP]", 2, special=True)],
    normalizer={"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"},
                                                    {"type": "Strip", "strip_left": True, "strip_right": True},
                                                    {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}]},
    pre_tokenizer={"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "Split", "pattern": {"String": "-"}, "behavior": "MergedWithNext", "invert": False},
        {"type": "Whitespace"}]},
    post_processor={"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
    decoder=None)

# 3. GPT-2 style byte level: ByteLevel with its own regex and add_prefix_space, string merges,
#    a Split with Contiguous behaviour on digits first, Strip + Replace decoders after ByteLevel.
chars = byte_level_chars()
gpt2_vocab = [chars[b] for b in range(256)]
G = chars[0x20]
gpt2_merges = [(G, "t"), ("h", "e"), (G + "t", "he"), (G, "a"), ("i", "n"), (G, "w"), ("o", "r"), (G + "w", "or"),
               ("l", "d"), (G + "wor", "ld"), ("1", "2"), ("12", "3"), (G, G)]
gpt2_model = bpe(gpt2_vocab, gpt2_merges, ignore_merges=True)
gpt2_model["merges"] = [a + " " + b for a, b in gpt2_merges]
gpt2 = tokenizer(
    gpt2_model,
    added_tokens=[added("<|endoftext|>", 269, special=True), added("<|pad|>", 270, special=True, rstrip=True, lstrip=True)],
    pre_tokenizer={"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "\\p{N}"}, "behavior": "Contiguous", "invert": False},
        {"type": "Split", "pattern": {"String": "|"}, "behavior": "MergedWithPrevious", "invert": False},
        {"type": "Split", "pattern": {"String": "#"}, "behavior": "Removed", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}]},
    post_processor={"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    decoder={"type": "Sequence", "decoders": [{"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
                                              {"type": "Replace", "pattern": {"String": "world"}, "content": "WORLD"},
                                              {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})

out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/tokenizer/synthetic"
for name, content in [("metaspace", metaspace), ("digits", digits), ("gpt2", gpt2)]:
    os.makedirs(os.path.join(out_dir, name), exist_ok=True)
    with open(os.path.join(out_dir, name, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(content, f, ensure_ascii=False, indent=1)
        f.write("\n")
