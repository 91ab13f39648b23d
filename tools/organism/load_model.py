"""Loads a model folder written by build.py back into tools/organism/qwen3.py."""

import json
import os

import qwen3
import safetensors_io
from check_tokenizer import load_tokenizer


def load(model_dir):
    """-> (model in eval mode, tokenizer)."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    model = qwen3.Qwen3ForCausalLM(cfg)
    missing, unexpected = model.load_state_dict(
        safetensors_io.load(os.path.join(model_dir, "model.safetensors")), strict=False)
    if unexpected or [k for k in missing if "rotary_emb" not in k]:
        raise ValueError(f"weights do not match the config: missing {missing}, unexpected {unexpected}")
    model.eval()
    return model, load_tokenizer(model_dir)
