#!/usr/bin/python3
"""Writes the Optuna 3.1 parity fixture tests/fixtures/tpe/tpe31_trace_seed<S>.json.

Runs 60 random ZDT1-C trials with Debian's python3-optuna 3.1.0 (TPESampler(n_startup_trials=60,
n_ei_candidates=128, multivariate=True, seed=S)), then recomputes the first model-based ask
step by step through Optuna's internal functions on a copy of the sampler's random state, and
checks that the result is what study.ask() really proposes. The fixture holds the history and
every intermediate: split, weights, sigmas, categorical rows, the 128 candidates, log l, log g,
the pick, and the same candidates scored with the -log(sigma) term that 3.1 omits.

Usage: /usr/bin/python3 make_tpe31_trace.py SEED OUTPUT.json
"""
import copy
import json
import os
import sys
import warnings

warnings.simplefilter("ignore")
import numpy as np  # noqa: E402
import optuna  # noqa: E402
from optuna.samplers._tpe import _truncnorm  # noqa: E402
from optuna.samplers._tpe import sampler as tpe_module  # noqa: E402
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from optuna_runner import PROBLEMS  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def suggest(trial):
    x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(10)])
    return x, ["a", "b"].index(trial.suggest_categorical("c", ["a", "b"]))


def main():
    seed, output = int(sys.argv[1]), sys.argv[2]
    objective, _ = PROBLEMS["zdt1c"]
    sampler = optuna.samplers.TPESampler(n_startup_trials=60, n_ei_candidates=128,
                                         multivariate=True, seed=seed)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    history = []
    for _ in range(60):
        trial = study.ask()
        x, c = suggest(trial)
        values = objective(x, c)
        study.tell(trial, list(values))
        history.append({"params": [float(v) for v in x] + [c], "values": list(values)})

    space = {k: d for k, d in sampler._search_space.calculate(study).items() if not d.single()}
    names = list(space)
    values, scores, violations = tpe_module._get_observation_pairs(study, names, False, False)
    n = sum(s < float("inf") for s, _ in scores)
    n_below = sampler._gamma(n)
    below_idx, above_idx = tpe_module._split_observation_pairs(scores, n_below, violations)
    columns = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    below = {k: v[below_idx] for k, v in columns.items()}
    above = {k: v[above_idx] for k, v in columns.items()}
    weights_below = tpe_module._calculate_weights_below_for_multi_objective(
        scores, below_idx, violations)
    params = sampler._parzen_estimator_parameters
    estimator_below = _ParzenEstimator(below, space, params, weights_below)
    estimator_above = _ParzenEstimator(above, space, params)
    candidates = estimator_below.sample(copy.deepcopy(sampler._rng), 128)
    log_l = estimator_below.log_pdf(candidates)
    log_g = estimator_above.log_pdf(candidates)
    best = int(np.argmax(log_l - log_g))

    original_logpdf = _truncnorm.logpdf  # 3.5+ subtract log(scale); score once more that way
    _truncnorm.logpdf = lambda x, a, b, loc=0, scale=1: (
        original_logpdf(x, a, b, loc=loc, scale=scale) - np.log(scale))
    log_l_fixed = estimator_below.log_pdf(candidates)
    log_g_fixed = estimator_above.log_pdf(candidates)
    _truncnorm.logpdf = original_logpdf

    proposal = [float(candidates[f"x{i}"][best]) for i in range(10)] + [int(candidates["c"][best])]
    x, c = suggest(study.ask())
    if [float(v) for v in x] + [c] != proposal:
        sys.exit("the step-by-step replay differs from study.ask(); fixture not written")

    fixture = {
        "optuna": optuna.__version__, "seed": seed, "param_order": names, "history": history,
        "n": n, "n_below": n_below,
        "below_indices_in_order": below_idx.tolist(), "above_indices": above_idx.tolist(),
        "weights_below_raw": weights_below.tolist(),
        "mixture_weights_below": estimator_below._weights.tolist(),
        "mixture_weights_above": estimator_above._weights.tolist(),
        "sigma_below_x0": estimator_below._sigmas["x0"].tolist(),
        "sigma_above_x0": estimator_above._sigmas["x0"].tolist(),
        "cat_weights_below": estimator_below._categorical_weights["c"].tolist(),
        "candidates": {k: v.tolist() for k, v in candidates.items()},
        "log_l": log_l.tolist(), "log_g": log_g.tolist(), "best_index": best,
        "proposal": proposal,
        "log_l_fixed": log_l_fixed.tolist(), "log_g_fixed": log_g_fixed.tolist(),
        "best_index_fixed": int(np.argmax(log_l_fixed - log_g_fixed)),
    }
    with open(output, "w") as out:
        json.dump(fixture, out)


if __name__ == "__main__":
    main()
