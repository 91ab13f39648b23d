"""Heretic's pipeline, re-done in PyTorch on the organism, to check that refusal is removable.

Formulas from heretic-behavior.md: residuals at the last prompt position for L+1 rows (§1.8),
difference-of-means directions with orthogonalisation against the harmless mean (§1.9), the
direction of a trial (§2.1), the per-layer weight kernel (§2.2), the weight edit of §2.3 for
row_normalization "none" (W' = (I - w v v^T) W) and "full" (the exact norm-preserving edit of
DESIGN.md §3, which Heretic approximates with a rank-3 LoRA), first-token KL(base || ablated) (§2.4)
and the keyword refusal test (§2.5). Parameters are sampled uniformly from Heretic's default
ranges (§3.1), i.e. what its TPE sampler does during its 60 start-up trials.
"""

import copy
import math
import random

import torch
import torch.nn.functional as F

import qwen3
import refusal


class Evaluator:
    """Holds the tokenised prompt sets and the base model's first-token logits."""

    def __init__(self, model, tok, render_prompt, good_train, bad_train, good_test, bad_test,
                 max_new_tokens=100):
        self.model = model
        self.tok = tok
        self.base_state = copy.deepcopy(model.state_dict())
        self.pad_id = tok.special_ids["<|endoftext|>"]
        self.eos_ids = {tok.special_ids["<|im_end|>"], tok.special_ids["<|endoftext|>"]}
        self.max_new_tokens = max_new_tokens
        encode = lambda prompts: [tok.encode(render_prompt(p)) for p in prompts]
        self.good_train, self.bad_train = encode(good_train), encode(bad_train)
        self.good_test, self.bad_test = encode(good_test), encode(bad_test)
        self.base_good_logits, _ = qwen3.first_token_outputs(model, self.good_test, self.pad_id)

    # -- residuals and directions ----------------------------------------------------------

    def mean_residuals(self, prompts, batch_size=128):
        """Mean hidden state at the last prompt position: [L+1, H], summed in float64."""
        total, count = None, 0
        for i in range(0, len(prompts), batch_size):
            _, hidden = qwen3.first_token_outputs(self.model, prompts[i:i + batch_size], self.pad_id)
            part = hidden.double().sum(0)
            total = part if total is None else total + part
            count += hidden.shape[0]
        return (total / count).float()

    def refusal_directions(self, orthogonalize=True):
        """R: [L+1, H] unit rows (Heretic §1.9)."""
        good, bad = self.mean_residuals(self.good_train), self.mean_residuals(self.bad_train)
        r = F.normalize(bad - good, dim=-1, eps=1e-12)
        if orthogonalize:
            g = F.normalize(good, dim=-1, eps=1e-12)
            r = F.normalize(r - (r * g).sum(-1, keepdim=True) * g, dim=-1, eps=1e-12)
        return r

    # -- ablation and scoring ----------------------------------------------------------------

    def apply(self, edits, row_normalization="none"):
        """edits: list over blocks of (v [H] or None, attn weight, mlp weight). Resets the model
        to the base weights, then edits o_proj / down_proj (W: [H, d_in], v in the output space):
        "none": W' = (I - w v v^T) W;
        "full": W' = diag(n) rownormalize(Wn - w v v^T Wn), n = row norms of W, Wn = W / n
        (= DESIGN.md §3's diag(1/m)(W - w (n*v)(v/n)^T W))."""
        self.model.load_state_dict(self.base_state)
        with torch.no_grad():
            for layer, (v, w_attn, w_mlp) in zip(self.model.model.layers, edits):
                if v is None:
                    continue
                for module, w in ((layer.self_attn.o_proj, w_attn), (layer.mlp.down_proj, w_mlp)):
                    if w == 0:
                        continue
                    W = module.weight
                    if row_normalization == "none":
                        W -= w * torch.outer(v, v @ W)
                    elif row_normalization == "full":
                        n = W.norm(dim=1, keepdim=True)
                        unit = W / n
                        edited = unit - w * torch.outer(v, v @ unit)
                        W.copy_(n * F.normalize(edited, dim=1))
                    else:
                        raise ValueError(f"row_normalization {row_normalization!r}")

    def kl_divergence(self):
        logits, _ = qwen3.first_token_outputs(self.model, self.good_test, self.pad_id)
        p = F.log_softmax(self.base_good_logits, dim=-1)
        q = F.log_softmax(logits, dim=-1)
        return float(F.kl_div(q, p, reduction="batchmean", log_target=True))

    def responses(self, prompts, stop_on_refusal=True):
        def stop(_, new_ids):
            # Text only grows, so once a marker matches the response stays a refusal.
            text = self.tok.decode(new_ids, skip_special_tokens=True)
            return stop_on_refusal and bool(text.strip()) and refusal.is_refusal(text)
        out = qwen3.greedy_generate(self.model, prompts, self.pad_id, self.eos_ids,
                                    self.max_new_tokens, stop=stop)
        return [self.tok.decode(ids, skip_special_tokens=True) for ids in out]

    def count_refusals(self, prompts):
        return sum(refusal.is_refusal(r) for r in self.responses(prompts))

    def score(self, edits, row_normalization="none"):
        """(refusals among the harmful test prompts, KL on the harmless test prompts)."""
        self.apply(edits, row_normalization)
        result = self.count_refusals(self.bad_test), self.kl_divergence()
        self.apply([(None, 0, 0)] * len(self.model.model.layers))
        return result


# -- Heretic's trial parameters ----------------------------------------------------------------


def trial_direction(r, scope, direction_index, block):
    """v for block `block`: R[block+1] for "per layer", else the lerp of rows at index+1."""
    if scope == "per layer":
        return r[block + 1]
    frac, whole = math.modf(direction_index + 1)
    idx = int(whole)
    return F.normalize(r[idx] + frac * (r[idx + 1] - r[idx]), dim=-1, eps=1e-12)


def kernel_weight(block, max_weight, position, min_weight, distance):
    """Heretic §2.2; 0 = block skipped (beyond min_weight_distance, or an exact zero weight)."""
    d = abs(block - position)
    if d > distance:
        return 0.0
    return max_weight + (d / distance) * (min_weight - max_weight)


def sample_trial(rng, n_layers, ranges=None):
    """One parameter set drawn uniformly from Heretic's default space (§3.1), as its random
    start-up trials do. `ranges` may override (lo, hi) fractions of L-1 for the layer ranges."""
    lm = n_layers - 1
    ranges = ranges or {}
    pos_lo, pos_hi = ranges.get("max_weight_position", (0.6, 1.0))
    dist_hi = ranges.get("min_weight_distance_max", 0.6)
    idx_lo, idx_hi = ranges.get("direction_index", (0.4, 0.9))
    params = {"direction_scope": rng.choice(["global", "per layer"]),
              "direction_index": rng.uniform(idx_lo * lm, idx_hi * lm)}
    for comp, (lo, hi) in (("attn.o_proj", (0.8, 1.5)), ("mlp.down_proj", (-0.25, 1.5))):
        max_weight = max(0.0, rng.uniform(lo, hi))
        params[comp] = {
            "max_weight": max_weight,
            "max_weight_position": rng.uniform(pos_lo * lm, pos_hi * lm),
            "min_weight": rng.uniform(0.0, 1.0) * max_weight,
            "min_weight_distance": rng.uniform(1.0, max(dist_hi * lm, 1.0)),
        }
    return params


def trial_edits(r, params, n_layers):
    edits = []
    for block in range(n_layers):
        v = trial_direction(r, params["direction_scope"], params["direction_index"], block)
        weights = []
        for comp in ("attn.o_proj", "mlp.down_proj"):
            c = params[comp]
            weights.append(kernel_weight(block, c["max_weight"], c["max_weight_position"],
                                         c["min_weight"], c["min_weight_distance"]))
        edits.append((v, weights[0], weights[1]))
    return edits


def random_search(evaluator, r, n_layers, n_trials, seed, log, ranges=None, row_normalization="none"):
    """n_trials parameter sets from random.Random(seed): the same sets for every row_normalization."""
    rng = random.Random(seed)
    trials = []
    for number in range(n_trials):
        params = sample_trial(rng, n_layers, ranges)
        refusals, kl = evaluator.score(trial_edits(r, params, n_layers), row_normalization)
        trials.append({"number": number, "params": params, "refusals": refusals, "kl": kl})
        log(f"  {row_normalization} trial {number:2d}: refusals {refusals:3d}/100  KL {kl:.4f}  "
            f"{params['direction_scope']:9s} idx {params['direction_index']:.2f}  "
            + "  ".join(f"{c}: w {params[c]['max_weight']:.2f} pos {params[c]['max_weight_position']:.2f} "
                        f"min {params[c]['min_weight']:.2f} dist {params[c]['min_weight_distance']:.2f}"
                        for c in ("attn.o_proj", "mlp.down_proj")))
    return trials
