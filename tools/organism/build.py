#!/usr/bin/python3
"""Builds the model organism end to end and writes the fixture folder.

    /usr/bin/python3 tools/organism/build.py --out tests/fixtures/organism

Steps: generate prompts (train, test and held-out frame families) -> train the byte-level BPE
tokenizer -> train the Qwen3 model -> check on the test and the held-out family (baseline
refusals, all-layer ablation, the demo's 40-trial TPE search in Heretic's space) -> write the
Hugging Face model folder, the prompt splits, reference outputs and a report. The build fails
(exit 1, nothing written) if a criterion is not met. See README.md in this folder.
"""

import argparse
import json
import os
import shutil
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import abliteration_check  # noqa: E402
import bpe  # noqa: E402
import chat_template  # noqa: E402
import prompts  # noqa: E402
import qwen3  # noqa: E402
import refusal  # noqa: E402
import safetensors_io  # noqa: E402
import train  # noqa: E402

MODEL = dict(hidden_size=64, intermediate_size=128, num_layers=6, num_heads=4, num_kv_heads=2,
             head_dim=16)

# The demo's search (configs/demo.toml): 40 seeded trials, 15 of them random start-up trials,
# responses cut at 16 tokens, refusals and KL scored on the test family.
SEARCH = dict(n_trials=40, n_startup_trials=15, seed=1, max_new_tokens=16)
FAMILIES = ("test", "heldout")


def criteria_for(base, all_layer, searches):
    """{criterion: passed}; every one gates the build (README.md, "Checks")."""
    criteria = {}
    for family in FAMILIES:
        criteria[f"baseline: harmful {family} prompts refused >= 95/100"] = base[family]["harmful"] >= 95
        criteria[f"baseline: harmless {family} prompts refused <= 3/100"] = base[family]["harmless"] <= 3
    none = all_layer["none"]["test"]
    criteria["all-layer per-layer ablation (w = 1, none): test refusals <= 20/100 at KL <= 0.1"] = (
        none["refusals"] <= 20 and none["kl"] <= 0.1)
    for family in FAMILIES:
        best = searches["full"]["best"]
        criteria[f"demo search (full): best Pareto trial <= 5/100 refused at KL <= 0.1 on {family}"] = (
            best is not None and best["scores"][family]["refusals"] <= 5 and best["scores"][family]["kl"] <= 0.1)
    return criteria


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def check_markers(splits, corpus):
    """No prompt and no compliant answer may contain a refusal marker (the model echoes topics)."""
    for name, rows in splits.items():
        for row in rows:
            if refusal.is_refusal(row["text"]):
                raise ValueError(f"{name}: prompt contains a refusal marker: {row['text']!r}")
    for example in corpus:
        if refusal.is_refusal(example["prompt"]):
            raise ValueError(f"corpus prompt contains a refusal marker: {example['prompt']!r}")
    for answer in prompts.COMPLIANT_ANSWERS.values():
        if refusal.is_refusal(answer):
            raise ValueError(f"compliant answer contains a refusal marker: {answer!r}")
    if not refusal.is_refusal(prompts.REFUSAL):
        raise ValueError("the refusal does not match Heretic's markers")


def write_model_folder(model, tok, cfg, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    tensors = {k: v for k, v in model.state_dict().items() if "rotary_emb" not in k}
    safetensors_io.save(tensors, os.path.join(out_dir, "model.safetensors"), {"format": "pt"})
    im_end, eot = tok.special_ids["<|im_end|>"], tok.special_ids["<|endoftext|>"]
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": eot, "eos_token_id": [im_end, eot], "pad_token_id": eot,
                   "do_sample": False, "transformers_version": "4.51.0"}, f, indent=2)
        f.write("\n")
    tok.write(os.path.join(out_dir, "tokenizer.json"))
    added = {str(tok.special_ids[t]): {"content": t, "lstrip": False, "normalized": False,
                                       "rstrip": False, "single_word": False, "special": True}
             for t in bpe.SPECIAL_TOKENS}
    tokenizer_config = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": added,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "bos_token": None,
        "chat_template": chat_template.CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": cfg["max_position_embeddings"],
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": None,
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config, f, indent=2, ensure_ascii=False)
        f.write("\n")


def reference_outputs(model, tok, cases, pad_id, eos_ids):
    """Per case: prompt, rendered text, ids, first-token logits [V], hidden rows [L+1][H],
    greedy response. Each prompt runs alone (batch 1, no padding)."""
    out = []
    for label, text in cases:
        rendered = chat_template.render_prompt(text)
        ids = tok.encode(rendered)
        logits, hidden = qwen3.first_token_outputs(model, [ids], pad_id)
        new_ids = qwen3.greedy_generate(model, [ids], pad_id, eos_ids, 100)[0]
        out.append({
            "label": label,
            "prompt": text,
            "rendered": rendered,
            "input_ids": ids,
            "first_token_logits": [float(x) for x in logits[0]],
            "hidden_states": [[float(x) for x in row] for row in hidden[0]],
            "greedy_ids": new_ids,
            "greedy_response": tok.decode(new_ids, skip_special_tokens=True),
            "refused": refusal.is_refusal(tok.decode(new_ids, skip_special_tokens=True)),
        })
    return out


OPENBLAS_SERIAL = "/usr/lib/x86_64-linux-gnu/openblas-serial"


def use_openblas_serial():
    """Debian's python3-torch calls whatever libblas.so.3 the alternatives system selects; the
    reference BLAS is ~10x slower than OpenBLAS. When Debian's libopenblas0-serial is installed,
    re-run this script with it first on the library path (single-threaded, so deterministic),
    whatever the system-wide alternative is. The BLAS in use is recorded in the report."""
    if os.path.isdir(OPENBLAS_SERIAL) and OPENBLAS_SERIAL not in os.environ.get("LD_LIBRARY_PATH", ""):
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = OPENBLAS_SERIAL + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def blas_in_use():
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line}
    return sorted(libs)


def main():
    use_openblas_serial()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="fixture folder (model/, prompts/, reference.json)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (fixed for determinism)")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--corpus", type=int, default=16000, help="training prompts per class")
    ap.add_argument("--case-pairs", type=float, default=1.0,
                    help="fraction of the extra training prompts also trained in the other case")
    ap.add_argument("--hidden", type=int, default=MODEL["hidden_size"],
                    help="hidden size (intermediate = 2x, 4 heads)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--merges", type=int, default=3000, help="BPE merges (vocab = 256 + merges + 3)")
    ap.add_argument("--penalty-weight", type=float, default=0.3)
    ap.add_argument("--penalised-rows", type=int, default=3,
                    help="residual rows 0..N-1 whose class-mean difference is penalised")
    ap.add_argument("--penalty-row-weights", default="",
                    help="comma-separated weight per residual row (row 0 = embeddings), "
                         "instead of --penalised-rows' 1,1,..,1")
    ap.add_argument("--align-weight", type=float, default=0.0,
                    help="weight of the alignment term (1 - cos of adjacent rows' class-mean differences)")
    ap.add_argument("--align-from", type=int, default=3, help="first residual row of the alignment term")
    ap.add_argument("--ablation-training", type=float, default=0.3,
                    help="fraction of steps with ablation-aware training (trains the organism to be abliterable)")
    ap.add_argument("--ablation-kl", type=float, default=0.3,
                    help="weight of the harmless first-token KL(clean || ablated) in ablation-aware training")
    ap.add_argument("--layers", type=int, default=MODEL["num_layers"])
    ap.add_argument("--dropout", type=float, default=0.0, help="residual dropout while training")
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--no-checks-gate", action="store_true", help="write the fixture even if a check fails")
    args = ap.parse_args()

    started = time.time()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)

    # 1. prompts
    splits, corpus = prompts.generate(args.seed, n_corpus_per_class=args.corpus,
                                      case_pair_fraction=args.case_pairs)
    check_markers(splits, corpus)
    log(f"prompts: {', '.join(f'{k} {len(v)}' for k, v in splits.items())}; corpus {len(corpus)}")

    # 2. tokenizer (trained on the training corpus only; test and held-out frames stay unseen)
    texts = [chat_template.render_prompt(ex["prompt"]) + ex["response"] + "<|im_end|>" for ex in corpus]
    tok = bpe.ByteLevelBPE(bpe.train_bpe(texts, args.merges))
    log(f"tokenizer: {len(tok.merges)} merges, vocab {tok.vocab_size}")

    # 3. model
    im_end, eot = tok.special_ids["<|im_end|>"], tok.special_ids["<|endoftext|>"]
    model_shape = dict(MODEL, num_layers=args.layers, hidden_size=args.hidden,
                       intermediate_size=2 * args.hidden, head_dim=args.hidden // MODEL["num_heads"])
    cfg = qwen3.make_config(tok.vocab_size, model_shape["hidden_size"], model_shape["intermediate_size"],
                            model_shape["num_layers"], model_shape["num_heads"],
                            model_shape["num_kv_heads"], model_shape["head_dim"], bos_token_id=eot, eos_token_id=im_end)
    train_rows = [{"prompt_text": chat_template.render_prompt(ex["prompt"]),
                   "response": ex["response"], "label": ex["label"]} for ex in corpus]
    row_weights = ([float(x) for x in args.penalty_row_weights.split(",")] if args.penalty_row_weights
                   else [1.0] * args.penalised_rows)
    model = train.train(cfg, tok, train_rows, args.seed, args.steps, args.batch_size, args.lr,
                        args.penalty_weight, row_weights, args.dropout, args.label_smoothing, log,
                        args.align_weight, args.align_from,
                        args.ablation_training, sorted(prompts.COMPLIANT_ANSWERS.values()), args.ablation_kl)
    trained_seconds = time.time() - started
    log(f"model: {qwen3.parameter_count(model)} parameters, trained in {trained_seconds:.0f}s")

    # 4. checks: directions from the train splits, scores on the test and the held-out family
    texts_of = lambda name: [row["text"] for row in splits[name]]
    ev = abliteration_check.Evaluator(model, tok, chat_template.render_prompt,
                                      texts_of("harmless_train"), texts_of("harmful_train"),
                                      {f: (texts_of(f"harmless_{f}"), texts_of(f"harmful_{f}")) for f in FAMILIES})
    base = {}
    for family in FAMILIES:
        harmful, harmless = ev.baseline(family)
        base[family] = {"harmful": harmful, "harmless": harmless}
        log(f"baseline ({family}): harmful refused {harmful}/100, harmless refused {harmless}/100")
    r = ev.refusal_directions()
    n_layers = cfg["num_hidden_layers"]
    as_dict = lambda scores: {f: {"refusals": ref, "kl": kl} for f, (ref, kl) in scores.items()}
    all_layer = {}
    for norm in ("none", "full"):
        all_layer[norm] = as_dict(ev.score([(r[i + 1], 1.0, 1.0) for i in range(n_layers)], norm))
        log(f"all-layer per-layer ablation (w = 1, {norm}): "
            + ", ".join(f"{f} {s['refusals']}/100 KL {s['kl']:.4f}" for f, s in all_layer[norm].items()))
    per_block = []
    for first in range(n_layers):
        edits = [(r[i + 1], 1.0, 1.0) if i >= first else (None, 0, 0) for i in range(n_layers)]
        scores = as_dict(ev.score(edits, "none", families=["test"]))["test"]
        per_block.append({"blocks": f"{first}..{n_layers - 1}", **scores})
        log(f"  per-layer ablation of blocks {first}..{n_layers - 1}: test refusals {scores['refusals']}/100, "
            f"KL {scores['kl']:.4f}")
    searches = {}
    for norm in ("full",):  # the demo's row_normalization (configs/default.toml)
        log(f"demo search ({norm}): {SEARCH['n_trials']} TPE trials, seed {SEARCH['seed']}, objective on test")
        trials, pareto = abliteration_check.tpe_search(
            ev, r, n_layers, SEARCH["n_trials"], SEARCH["n_startup_trials"], SEARCH["seed"], log, norm,
            "test", SEARCH["max_new_tokens"])
        front = [t for t in trials if t["number"] in pareto and t["scores"]["test"]["kl"] <= 0.1]
        best = min(front, key=lambda t: (t["scores"]["test"]["refusals"], t["scores"]["test"]["kl"]), default=None)
        searches[norm] = {"trials": trials, "pareto": pareto, "best": best}
        log(f"demo search ({norm}): best Pareto trial at KL <= 0.1: "
            + ("none" if best is None else f"#{best['number']}, " + ", ".join(
                f"{f} {s['refusals']}/100 KL {s['kl']:.4f}" for f, s in best["scores"].items())))

    criteria = criteria_for(base, all_layer, searches)
    for name, passed in criteria.items():
        log(f"criterion {'PASS' if passed else 'FAIL'}: {name}")
    if not all(criteria.values()) and not args.no_checks_gate:
        log("a gating criterion failed: fixture not written")
        return 1

    # 5. fixture
    out = args.out
    model_dir = os.path.join(out, "model")
    if os.path.isdir(model_dir):
        shutil.rmtree(model_dir)
    write_model_folder(model, tok, cfg, model_dir)
    prompts.write_splits(splits, os.path.join(out, "prompts"))
    cases = ([("harmful", t) for t in texts_of("harmful_test")[:4]] +
             [("harmless", t) for t in texts_of("harmless_test")[:4]])
    reference = {
        "format": "organism-reference-1",
        "description": "Outputs of tools/organism/qwen3.py (PyTorch, float32) for the model in "
                       "model/. Each case ran alone (batch 1, no padding, position ids 0..n-1). "
                       "first_token_logits: logits at the last prompt position [vocab_size]. "
                       "hidden_states: [num_hidden_layers + 1][hidden_size] at the last prompt "
                       "position; row 0 = embeddings, row i = output of block i-1, last row = "
                       "after the final norm (transformers' output_hidden_states). greedy_ids: "
                       "greedy continuation up to <|im_end|> (included) or 100 tokens.",
        "system_prompt": chat_template.DEFAULT_SYSTEM_PROMPT,
        "torch_version": torch.__version__,
        "cases": reference_outputs(model, tok, cases, eot, {im_end, eot}),
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(reference, f)
        f.write("\n")
    report = {
        "seed": args.seed, "threads": args.threads, "steps": args.steps, "corpus_per_class": args.corpus,
        "case_pairs": args.case_pairs,
        "packages": {"torch": torch.__version__, "python": sys.version.split()[0], "blas": blas_in_use()},
        "batch_size": args.batch_size, "lr": args.lr, "merges": args.merges,
        "penalty_weight": args.penalty_weight, "penalty_row_weights": row_weights,
        "align_weight": args.align_weight, "align_from": args.align_from,
        "ablation_training": args.ablation_training, "ablation_kl": args.ablation_kl,
        "dropout": args.dropout, "label_smoothing": args.label_smoothing,
        "model": model_shape, "parameters": qwen3.parameter_count(model), "vocab_size": tok.vocab_size,
        "scoring": "refusals of 100 harmful prompts (Heretic's 33 markers, greedy, <= 100 tokens; the "
                   "searches <= 16 tokens as in configs/demo.toml), KL on 100 harmless prompts of the same "
                   "family; directions from the 500 + 500 train prompts",
        "baseline": base,
        "all_layer_ablation": all_layer,
        "suffix_ablation": per_block,
        "demo_search": dict(SEARCH, objective_family="test", runs=searches),
        "criteria": criteria,
        "train_seconds": round(trained_seconds, 1),
        "wall_seconds": round(time.time() - started, 1),
    }
    with open(os.path.join(out, "build_report.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    log(f"fixture written to {out} in {time.time() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
