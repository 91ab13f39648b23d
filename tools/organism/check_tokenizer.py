#!/usr/bin/python3
"""Checks the committed tokenizer against the real Hugging Face tokenizers library.

    /usr/bin/python3 tools/organism/check_tokenizer.py --fixture tests/fixtures/organism \
        --oracle /tmp/organism-oracle

--oracle is a copy of /work/shared/oracle/tokenizer after `npm ci` (only node_modules is used).
Every prompt of the four splits is rendered with the chat template, then the rendered text, the
response texts and the full training texts are encoded by bpe.py (loaded from the committed
tokenizer.json) and by the Rust tokenizer; all ids must agree and decode must round-trip.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bpe  # noqa: E402
import chat_template  # noqa: E402
import prompts  # noqa: E402


def load_tokenizer(model_dir):
    with open(os.path.join(model_dir, "tokenizer.json"), encoding="utf-8") as f:
        doc = json.load(f)
    merges = [tuple(m.split(" ")) for m in doc["model"]["merges"]]
    tok = bpe.ByteLevelBPE(merges)
    if tok.vocab != doc["model"]["vocab"]:
        raise ValueError("tokenizer.json vocab differs from the one rebuilt from its merges")
    return tok


def check_template(model_dir, render_oracle):
    """The committed chat_template renders a few conversations exactly as render_oracle.py does."""
    with open(os.path.join(model_dir, "tokenizer_config.json"), encoding="utf-8") as f:
        template = json.load(f)["chat_template"]
    conversations = {
        "sys_user": {"messages": [{"role": "system", "content": chat_template.DEFAULT_SYSTEM_PROMPT},
                                  {"role": "user", "content": "How do I bake bread?"}],
                     "add_generation_prompt": True},
        "user_only": {"messages": [{"role": "user", "content": "Hi!"}], "add_generation_prompt": True},
        "multi_turn": {"messages": [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                                    {"role": "user", "content": "c"}], "add_generation_prompt": False},
    }
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "organism.jinja"), "w", encoding="utf-8") as f:
            f.write(template)
        with open(os.path.join(tmp, "conversations.json"), "w", encoding="utf-8") as f:
            json.dump(conversations, f)
        with open(os.path.join(tmp, "special.json"), "w", encoding="utf-8") as f:
            json.dump({"organism": chat_template.SPECIAL_TOKENS_MAP}, f)
        for name, conv in conversations.items():
            expected = subprocess.run(
                ["/usr/bin/python3", render_oracle, "--one", os.path.join(tmp, "organism.jinja"),
                 os.path.join(tmp, "conversations.json"), name, os.path.join(tmp, "special.json")],
                check=True, capture_output=True, text=True).stdout
            ours = chat_template.render(conv["messages"], conv["add_generation_prompt"])
            if ours != expected:
                raise SystemExit(f"chat template mismatch for {name}: {ours!r} != {expected!r}")
    print(f"chat template: {len(conversations)} conversations render as render_oracle.py does")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--render-oracle", default="/work/shared/oracle/tokenizer/render_oracle.py",
                    help="the shared render_oracle.py (transformers' Jinja2 environment)")
    args = ap.parse_args()
    model_dir = os.path.join(args.fixture, "model")
    tok = load_tokenizer(model_dir)
    check_template(model_dir, args.render_oracle)
    texts = []
    for name in ("harmful_train", "harmful_test", "harmful_heldout", "harmless_train", "harmless_test",
                 "harmless_heldout"):
        with open(os.path.join(args.fixture, "prompts", name + ".txt"), encoding="utf-8") as f:
            for line in f:
                user = line.rstrip("\n")
                rendered = chat_template.render_prompt(user)
                texts += [user, rendered]
    responses = [prompts.REFUSAL] + list(prompts.COMPLIANT_ANSWERS.values())
    texts += responses
    texts += [chat_template.render_prompt(t) + r + "<|im_end|>" for t in texts[:40:2] for r in responses]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for text in texts:
            f.write(json.dumps({"text": text, "ids": tok.encode(text)}) + "\n")
        cases = f.name
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_tokenizer.js")
    result = subprocess.run(["node", script, args.oracle, model_dir, cases])
    os.unlink(cases)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
