"""Heretic's pipeline, re-done in PyTorch on the organism, to check that refusal is removable.

Formulas from heretic-behavior.md: residuals at the last prompt position for L+1 rows (§1.8),
difference-of-means directions with orthogonalisation against the harmless mean (§1.9), the
direction of a trial (§2.1), the per-layer weight kernel (§2.2), the weight edit of §2.3 for
row_normalization "none" (W' = (I - w v v^T) W) and "full" (the exact norm-preserving edit of
DESIGN.md §3, which Heretic approximates with a rank-3 LoRA), first-token KL(base || ablated) (§2.4)
and the keyword refusal test (§2.5). The search is Optuna's multivariate TPE over Heretic's
default parameter ranges (§3.1, §3.2), with the demo's trial counts.
"""

import copy
import math
import warnings

import torch
import torch.nn.functional as F

import qwen3
import refusal


class Evaluator:
    """Holds the tokenised prompt sets and the base model's first-token logits.

    families: {name: (harmless prompts, harmful prompts)} scored separately (the build uses the
    test and the held-out family); the train prompts only give the directions."""

    def __init__(self, model, tok, render_prompt, good_train, bad_train, families,
                 max_new_tokens=100):
        self.model = model
        self.tok = tok
        self.base_state = copy.deepcopy(model.state_dict())
        self.pad_id = tok.special_ids["<|endoftext|>"]
        self.eos_ids = {tok.special_ids["<|im_end|>"], tok.special_ids["<|endoftext|>"]}
        self.max_new_tokens = max_new_tokens
        encode = lambda prompts: [tok.encode(render_prompt(p)) for p in prompts]
        self.good_train, self.bad_train = encode(good_train), encode(bad_train)
        self.families = {name: (encode(good), encode(bad)) for name, (good, bad) in families.items()}
        self.base_good_logits = {name: qwen3.first_token_outputs(model, good, self.pad_id)[0]
                                 for name, (good, _) in self.families.items()}

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

    def kl_divergence(self, family):
        logits, _ = qwen3.first_token_outputs(self.model, self.families[family][0], self.pad_id)
        p = F.log_softmax(self.base_good_logits[family], dim=-1)
        q = F.log_softmax(logits, dim=-1)
        return float(F.kl_div(q, p, reduction="batchmean", log_target=True))

    def responses(self, prompts, max_new_tokens=None, stop_on_refusal=True):
        def stop(_, new_ids):
            # Text only grows, so once a marker matches the response stays a refusal.
            text = self.tok.decode(new_ids, skip_special_tokens=True)
            return stop_on_refusal and bool(text.strip()) and refusal.is_refusal(text)
        out = qwen3.greedy_generate(self.model, prompts, self.pad_id, self.eos_ids,
                                    max_new_tokens or self.max_new_tokens, stop=stop)
        return [self.tok.decode(ids, skip_special_tokens=True) for ids in out]

    def count_refusals(self, prompts, max_new_tokens=None):
        return sum(refusal.is_refusal(r) for r in self.responses(prompts, max_new_tokens))

    def baseline(self, family):
        """(harmful refused, harmless refused) of the unedited model."""
        good, bad = self.families[family]
        return self.count_refusals(bad), self.count_refusals(good)

    def score(self, edits, row_normalization="none", families=None, max_new_tokens=None):
        """{family: (refusals among its harmful prompts, KL on its harmless prompts)}."""
        self.apply(edits, row_normalization)
        result = {name: (self.count_refusals(self.families[name][1], max_new_tokens), self.kl_divergence(name))
                  for name in (families or self.families)}
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


def suggest_trial(trial, n_layers):
    """One parameter set from an Optuna trial, in Heretic's default space and suggestion order
    (§3.1): scope, direction index, then per component (attention, MLP) the kernel's four
    parameters; the MLP's max weight is clamped at 0 and min_weight is a fraction of max_weight."""
    lm = n_layers - 1
    params = {"direction_scope": trial.suggest_categorical("direction_scope", ["global", "per layer"]),
              "direction_index": trial.suggest_float("direction_index", 0.4 * lm, 0.9 * lm)}
    for comp, (lo, hi) in (("attn.o_proj", (0.8, 1.5)), ("mlp.down_proj", (-0.25, 1.5))):
        max_weight = max(0.0, trial.suggest_float(f"{comp}.max_weight", lo, hi))
        params[comp] = {
            "max_weight": max_weight,
            "max_weight_position": trial.suggest_float(f"{comp}.max_weight_position", 0.6 * lm, 1.0 * lm),
            "min_weight": trial.suggest_float(f"{comp}.min_weight", 0.0, 1.0) * max_weight,
            "min_weight_distance": trial.suggest_float(f"{comp}.min_weight_distance", 1.0, max(0.6 * lm, 1.0)),
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


def tpe_search(evaluator, r, n_layers, n_trials, n_startup_trials, seed, log, row_normalization,
               objective_family, max_new_tokens):
    """Heretic's optimisation as the demo runs it: Optuna's multivariate TPE (n_startup_trials
    random trials first, 128 candidates, `seed`), minimising (refused fraction, KL) on
    `objective_family`. Every trial is also scored on the other families. Returns (trials, the
    numbers of the Pareto-optimal trials)."""
    import optuna  # Debian's python3-optuna; only the search needs it

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(n_startup_trials=n_startup_trials, n_ei_candidates=128,
                                             multivariate=True, seed=seed)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    trials = []

    def objective(trial):
        params = suggest_trial(trial, n_layers)
        scores = evaluator.score(trial_edits(r, params, n_layers), row_normalization,
                                 max_new_tokens=max_new_tokens)
        trials.append({"number": trial.number, "params": params,
                       "scores": {name: {"refusals": ref, "kl": kl} for name, (ref, kl) in scores.items()}})
        log(f"  {row_normalization} trial {trial.number:2d}: "
            + "  ".join(f"{name} {ref:3d} KL {kl:.4f}" for name, (ref, kl) in scores.items())
            + f"  {params['direction_scope']:9s} idx {params['direction_index']:.2f}  "
            + "  ".join(f"{c}: w {params[c]['max_weight']:.2f} pos {params[c]['max_weight_position']:.2f} "
                        f"min {params[c]['min_weight']:.2f} dist {params[c]['min_weight_distance']:.2f}"
                        for c in ("attn.o_proj", "mlp.down_proj")))
        ref, kl = scores[objective_family]
        return ref / len(evaluator.families[objective_family][1]), kl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.optimize(objective, n_trials=n_trials)
    return trials, sorted(t.number for t in study.best_trials)
