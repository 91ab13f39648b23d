#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/) from the files the
tests already use: the fixture models, the organism, the chat-template fixtures, the
configurations in configs/, and the real tokenizers that tools/fetch-tokenizers.sh fetches
into .cache/tokenizers (cut down to a few hundred tokens each, so that one fuzz input parses in
about a millisecond). Inputs that stand for several files separate them with NUL bytes (see
tests/fuzz/fuzz_targets.h for each target's layout).

    tools/fetch-tokenizers.sh && tools/make-fuzz-seeds.py

Deterministic: rerunning it rewrites the same files. Regression inputs (regression-*) are not
touched; they come from fuzzer findings and are added by hand.
"""
import json
import pathlib
import re
import struct
import sys
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
MODELS = sorted(path for path in (ROOT / "tests/fixtures/models").iterdir() if path.is_dir())
ORGANISM = ROOT / "tests/fixtures/organism/model"
TOKENIZERS = ROOT / ".cache" / "tokenizers"
SAMPLE_TEXT = ("Hello world! It's 2025-07-26, 12345 items cost $3.50.\n\tCafé 😀 你好  \"quoted\" <tag> & 'x'"
               " <|im_start|>user\n<s>[INST] hi [/INST]</s><start_of_turn>")


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    (folder / name).write_bytes(data)


def clear(target):
    folder = CORPUS / target
    if folder.exists():
        for path in folder.iterdir():
            if not path.name.startswith("regression-"):
                path.unlink()


def seed_name(model_folder):
    return "organism" if model_folder == ORGANISM else model_folder.name


def dumps(value):
    return json.dumps(value, ensure_ascii=False, indent=1)


# ---- safetensors: 8 bytes "file bytes beyond the input", then length + header ---------------

def safetensors_seeds():
    clear("safetensors_header")
    for folder in MODELS + [ORGANISM]:
        data = (folder / "model.safetensors").read_bytes()
        (header_size,) = struct.unpack("<Q", data[:8])
        prefix = data[: 8 + header_size]
        write("safetensors_header", seed_name(folder), struct.pack("<Q", len(data) - len(prefix)) + prefix)
    # A hand-made one with metadata, zero-size and scalar tensors, every dtype.
    header = {"__metadata__": {"format": "pt", "note": "x"},
              "a": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]},
              "b": {"dtype": "F32", "shape": [], "data_offsets": [12, 16]},
              "c": {"dtype": "F16", "shape": [0, 5], "data_offsets": [16, 16]},
              "d": {"dtype": "F16", "shape": [4], "data_offsets": [16, 24]}}
    text = json.dumps(header, separators=(",", ":")).encode()
    write("safetensors_header", "hand-made", struct.pack("<Q", 24) + struct.pack("<Q", len(text)) + text)


# ---- config.json NUL generation_config.json ---------------------------------------------------

def model_config_seeds():
    clear("model_config")
    base = None
    for folder in MODELS + [ORGANISM]:
        config = (folder / "config.json").read_text()
        generation = folder / "generation_config.json"
        data = config + ("\0" + generation.read_text() if generation.exists() else "")
        write("model_config", seed_name(folder), data)
        if folder.name == "qwen3-tiny":
            base = json.loads(config)
    variants = {
        "rope-llama3": {"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
                        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                        "original_max_position_embeddings": 8192}},
        "rope-yarn": {"rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768,
                      "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "truncate": False}},
        "rope-parameters-per-layer-type": {
            "layer_types": ["sliding_attention", "full_attention", "sliding_attention"], "sliding_window": 64,
            "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 1e6},
                                "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}}},
        "rope-dynamic-partial": {"rope_scaling": {"rope_type": "dynamic", "factor": 2.0},
                                 "partial_rotary_factor": 0.5},
        "quantization-gptq": {"quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128,
                              "desc_act": False, "sym": True}},
        "quantization-bnb": {"quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": True,
                             "bnb_4bit_quant_type": "nf4", "bnb_4bit_compute_dtype": "bfloat16"}},
        "quantization-fp8": {"quantization_config": {"quant_method": "fp8", "fmt": "e4m3",
                             "weight_block_size": [128, 128]}, "dtype": "bfloat16"},
        "eos-list-head-dim-null": {"eos_token_id": [1, 2, 3], "head_dim": None, "hidden_size": 64,
                                   "num_attention_heads": 4, "num_key_value_heads": 4},
    }
    for name, change in variants.items():
        config = dict(base)
        config.update(change)
        write("model_config", name, dumps(config) + "\0" + dumps({"eos_token_id": [1, 2], "pad_token_id": 0,
                                                                   "repetition_penalty": 1.1}))
    nested = {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "qwen3",
              "text_config": dict(base), "torch_dtype": "bfloat16", "tie_word_embeddings": True}
    write("model_config", "text-config-nested", dumps(nested))


# ---- tokenizer.json NUL tokenizer_config.json NUL text --------------------------------------

CONFIG_KEYS = ("tokenizer_class", "add_bos_token", "add_eos_token", "bos_token", "eos_token", "pad_token",
               "unk_token", "clean_up_tokenization_spaces", "split_special_tokens", "additional_special_tokens")


def token_contents(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return [value["content"]]
    if isinstance(value, list):
        return [c for item in value for c in token_contents(item)]
    return []


def cut_tokenizer(tokenizer, config, keep_ids=400, keep_merges=600, keep_added=40):
    """The tokenizer with its first keep_ids vocabulary entries (plus every token the special
    tokens, the post-processor and byte fallback need), the merges among them, and its first
    added tokens, renumbered the way a real file numbers them: vocabulary ids 0..n-1, then the
    added tokens that are not in the vocabulary, and the post-processor's ids to match."""
    model = tokenizer["model"]
    added = [dict(t) for t in tokenizer.get("added_tokens", [])[:keep_added]]
    needed = {t["content"] for t in added}
    for key in ("bos_token", "eos_token", "pad_token", "unk_token"):
        needed.update(token_contents(config.get(key)))
    if isinstance(model.get("unk_token"), str):
        needed.add(model["unk_token"])
    post_processor = json.loads(json.dumps(tokenizer.get("post_processor")))
    needed.update(re.findall(r'"(?:id|content)": "([^"]+)"', json.dumps(post_processor)))
    kept = [token for token, i in sorted(model["vocab"].items(), key=lambda item: item[1])
            if i < keep_ids or token in needed or re.fullmatch(r"<0x[0-9A-F]{2}>", token)]
    vocab = {token: i for i, token in enumerate(kept)}
    ids = dict(vocab)
    for token in added:
        if token["content"] not in ids:
            ids[token["content"]] = len(ids)
        token["id"] = ids[token["content"]]

    def renumber(node):  # the post-processor's special tokens carry their ids
        if isinstance(node, dict):
            if isinstance(node.get("ids"), list) and isinstance(node.get("tokens"), list):
                node["ids"] = [ids.get(t, 0) for t in node["tokens"]]
            for value in node.values():
                renumber(value)
        elif isinstance(node, list):
            if len(node) == 2 and isinstance(node[0], str) and isinstance(node[1], int):
                node[1] = ids.get(node[0], 0)
            for value in node:
                renumber(value)
    renumber(post_processor)
    merges = []
    for merge in model["merges"]:
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        if left in vocab and right in vocab and left + right in vocab:
            merges.append(merge)
        if len(merges) == keep_merges:
            break
    cut = dict(tokenizer)
    cut["model"] = dict(model, vocab=vocab, merges=merges)
    cut["added_tokens"] = added
    cut["post_processor"] = post_processor
    kept_config = {k: config[k] for k in CONFIG_KEYS if k in config}
    if "additional_special_tokens" in kept_config:
        kept_config["additional_special_tokens"] = kept_config["additional_special_tokens"][:8]
    return cut, kept_config


def tokenizer_seeds():
    clear("tokenizer")
    sources = [("organism", ORGANISM)]
    sources += [("synthetic-" + p.name, p) for p in sorted((ROOT / "tests/fixtures/tokenizer/synthetic").iterdir())]
    for name, folder in sources:
        tokenizer = json.loads((folder / "tokenizer.json").read_text())
        config_path = folder / "tokenizer_config.json"
        config = json.loads(config_path.read_text()) if config_path.exists() else {}
        config.pop("chat_template", None)
        write("tokenizer", name, dumps(tokenizer) + "\0" + dumps(config) + "\0" + SAMPLE_TEXT)
    if not TOKENIZERS.exists():
        sys.exit(f"{TOKENIZERS} is missing: run tools/fetch-tokenizers.sh first")
    for folder in sorted(TOKENIZERS.iterdir()):
        tokenizer = json.loads((folder / "tokenizer.json").read_text())
        config = json.loads((folder / "tokenizer_config.json").read_text())
        cut, kept_config = cut_tokenizer(tokenizer, config)
        write("tokenizer", folder.name, dumps(cut) + "\0" + dumps(kept_config) + "\0" + SAMPLE_TEXT)


# ---- chat templates -------------------------------------------------------------------------

HOSTILE_TEMPLATES = {
    "range-loop": "{% for i in range(10**9) %}{{ i }}{% endfor %}",
    "recursive-macro": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "string-doubling": "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
                       "{% endfor %}{{ ns.s|length }}",
    "raise": "{{ raise_exception('Only user and assistant roles are supported!') }}",
}


def chat_template_seeds():
    clear("chat_template")
    for path in sorted((ROOT / "tests/fixtures/chat_template/templates").glob("*.jinja")):
        write("chat_template", path.stem, path.read_bytes())
    cases = json.loads((ROOT / "tests/fixtures/chat_template/semantics_cases.json").read_text())["cases"]
    for i, case in enumerate(cases):
        write("chat_template", f"semantics-{i:03d}", case["source"])
    config = json.loads((ORGANISM / "tokenizer_config.json").read_text())
    if isinstance(config.get("chat_template"), str):
        write("chat_template", "organism", config["chat_template"])
    for name, source in HOSTILE_TEMPLATES.items():
        write("chat_template", "hostile-" + name, source)


# ---- TOML configuration NUL --set lines -------------------------------------------------------

def toml_seeds():
    clear("toml_config")
    for path in sorted((ROOT / "configs").glob("*.toml")):
        write("toml_config", path.stem, path.read_bytes())
    write("toml_config", "with-overrides", 'model = "org/name"\n[mpi]\nranks_per_trial = 2\n\0'
          "n_trials=50\ngood_prompts.split='train[:200]'\nmodel=org/other\noutput.export=[1, 3]\n")
    write("toml_config", "heretic-keys", 'model = "m"\nevaluate_model = "x"\nplot_residuals = true\n'
          'max_shard_size = "5GB"\ndtypes = ["auto", "bfloat16"]\nrefusal_markers = ["sorry", "cannot"]\n'
          '[good_prompts]\ndataset = "mlabonne/harmless_alpaca"\nsplit = "train[:400]"\ncolumn = "text"\n')


# ---- journal.jsonl ---------------------------------------------------------------------------

def sealed(record_text):
    crc = zlib.crc32(record_text.encode()) & 0xFFFFFFFF
    body = record_text[:-1] + ("," if record_text != "{}" else "")
    return body + f'"crc32":"{crc:08x}"}}'


def journal_seeds():
    clear("journal")
    real = ROOT / "tests" / "fixtures" / "journal" / "organism-run.jsonl"
    lines = real.read_text().splitlines()
    records = [re.sub(r',"crc32":"[0-9a-f]{8}"\}$', "}", line) for line in lines]
    text = "\n".join(lines) + "\n"
    # First byte 0: the bytes as they are; 1: every line gets a valid CRC first.
    write("journal", "real", b"\0" + text.encode())
    write("journal", "real-torn-tail", b"\0" + text[: len(text) - 17].encode())
    write("journal", "real-damaged-middle", b"\0" + text.replace('"trial"', '"trail"', 2).encode())
    write("journal", "real-records-unsealed", b"\1" + ("\n".join(records) + "\n").encode())
    write("journal", "empty-record", b"\0" + (sealed("{}") + "\n").encode())
    for legacy in sorted((ROOT / "tests" / "fixtures" / "journal").glob("demo-*-trials-*.jsonl")):
        write("journal", "legacy-" + legacy.stem, b"\0" + legacy.read_bytes())


def main():
    safetensors_seeds()
    model_config_seeds()
    tokenizer_seeds()
    chat_template_seeds()
    toml_seeds()
    journal_seeds()


if __name__ == "__main__":
    main()
