#!/usr/bin/python3
"""A random-weight Llama model folder of a chosen size, for memory measurements.

    /usr/bin/python3 tools/bench/memory/make_random_model.py /tmp/random-1g [--gib 1.2] [--dtype float32]

Writes config.json, generation_config.json and model.safetensors (Gaussian weights, std
1/sqrt(fan_in), from torch's seeded generator), and copies the tiny ChatML tokenizer of
tests/fixtures/models/llama-tiny (vocabulary 128), so that a whole heretic-mpi run works on it.
The shape: hidden 2048, 16 heads, 8 KV heads, intermediate 5632; the layer count is chosen so
that the weights reach --gib GiB in --dtype. Needs Debian's python3-torch (/usr/bin/python3).
The model is never committed; generate it into /tmp.
"""
import argparse
import json
import pathlib
import shutil
import struct

import torch

HIDDEN, HEADS, KV_HEADS, INTERMEDIATE, VOCAB = 2048, 16, 8, 5632, 128
FIXTURE = pathlib.Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "models" / "llama-tiny"
DTYPES = {"float32": (torch.float32, "F32"), "bfloat16": (torch.bfloat16, "BF16"), "float16": (torch.float16, "F16")}


def layer_shapes(layer):
    head_dim = HIDDEN // HEADS
    p = f"model.layers.{layer}."
    return [
        (p + "input_layernorm.weight", [HIDDEN]),
        (p + "self_attn.q_proj.weight", [HEADS * head_dim, HIDDEN]),
        (p + "self_attn.k_proj.weight", [KV_HEADS * head_dim, HIDDEN]),
        (p + "self_attn.v_proj.weight", [KV_HEADS * head_dim, HIDDEN]),
        (p + "self_attn.o_proj.weight", [HIDDEN, HEADS * head_dim]),
        (p + "post_attention_layernorm.weight", [HIDDEN]),
        (p + "mlp.gate_proj.weight", [INTERMEDIATE, HIDDEN]),
        (p + "mlp.up_proj.weight", [INTERMEDIATE, HIDDEN]),
        (p + "mlp.down_proj.weight", [HIDDEN, INTERMEDIATE]),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=pathlib.Path)
    parser.add_argument("--gib", type=float, default=1.2, help="weights at least this many GiB (default 1.2)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    args = parser.parse_args()
    torch_dtype, file_dtype = DTYPES[args.dtype]
    element = torch.tensor([], dtype=torch_dtype).element_size()

    per_layer = sum(torch.Size(shape).numel() for _, shape in layer_shapes(0))
    fixed = 2 * VOCAB * HIDDEN + HIDDEN
    layers = 1
    while (fixed + layers * per_layer) * element < args.gib * 2**30:
        layers += 1

    shapes = [("model.embed_tokens.weight", [VOCAB, HIDDEN])]
    for layer in range(layers):
        shapes += layer_shapes(layer)
    shapes += [("model.norm.weight", [HIDDEN]), ("lm_head.weight", [VOCAB, HIDDEN])]

    header, offset = {}, 0
    for name, shape in shapes:
        size = torch.Size(shape).numel() * element
        header[name] = {"dtype": file_dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)

    args.folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    with open(args.folder / "model.safetensors", "wb") as out:
        out.write(struct.pack("<Q", len(header_bytes)))
        out.write(header_bytes)
        for name, shape in shapes:
            if len(shape) == 1:
                tensor = 1.0 + 0.1 * torch.randn(shape)
            elif name.endswith("embed_tokens.weight"):
                tensor = torch.randn(shape)
            else:
                tensor = torch.randn(shape) / shape[1] ** 0.5
            out.write(tensor.to(torch_dtype).contiguous().view(torch.uint8).numpy().tobytes())

    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB,
        "hidden_size": HIDDEN, "intermediate_size": INTERMEDIATE, "num_hidden_layers": layers,
        "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "hidden_act": "silu",
        "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "bos_token_id": 0, "eos_token_id": 1,
        "torch_dtype": args.dtype, "rope_theta": 500000.0, "attention_bias": False, "mlp_bias": False,
        "tie_word_embeddings": False,
    }
    (args.folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (args.folder / "generation_config.json").write_text(json.dumps({"bos_token_id": 0, "eos_token_id": 1}) + "\n")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(FIXTURE / name, args.folder / name)
    print(f"{args.folder}: {layers} layers, {offset / 2**30:.2f} GiB of {args.dtype} weights")


if __name__ == "__main__":
    main()
