#!/usr/bin/python3
"""Runs Optuna's TPESampler on the TPE benchmark problems for bench_tpe (spec/tpe.md §13).

bench_tpe launches this with Debian's python3-optuna (3.1.0) and reads one JSON object per
seed from stdout: hypervolume at the checkpoints, sampler time per ask, and the told values in
order (so that the C++ sampler in Optuna 3.1 mode can be compared trial by trial).
The problems, protocol (FIFO of at most W pending trials) and metric must stay identical to
tools/bench/tpe/bench_tpe.cpp.
"""
import argparse
import json
import math
import time
import warnings

import numpy as np

warnings.simplefilter("ignore")
import optuna  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def zdt(x, c, squared):
    distance = x[1:] if c == 0 else 1.0 - x[1:]
    g = 1.0 + 9.0 * float(np.mean(distance)) + 0.25 * c
    f1 = float(x[0])
    f2 = g * (1.0 - (f1 / g) ** 2) if squared else g * (1.0 - math.sqrt(f1 / g))
    return f1, f2


def dtlz2(x, c):
    centre = 0.5 if c == 0 else 0.25
    g = float(np.sum((x[1:] - centre) ** 2)) + 0.1 * c
    angle = float(x[0]) * math.pi / 2.0
    return (1.0 + g) * math.cos(angle), (1.0 + g) * math.sin(angle)


PROBLEMS = {
    "zdt1c": (lambda x, c: zdt(x, c, False), (1.1, 6.0)),
    "zdt2c": (lambda x, c: zdt(x, c, True), (1.1, 6.0)),
    "dtlz2c": (dtlz2, (2.5, 2.5)),
}


def hypervolume_2d(points, ref):
    inside = sorted(p for p in points if p[0] < ref[0] and p[1] < ref[1])
    area, best = 0.0, ref[1]
    for f1, f2 in inside:
        if f2 < best:
            area += (ref[0] - f1) * (best - f2)
            best = f2
    return area


def run(problem, seed, trials, startup, candidates, workers):
    objective, ref = PROBLEMS[problem]
    sampler = optuna.samplers.TPESampler(n_startup_trials=startup, n_ei_candidates=candidates,
                                         multivariate=True, constant_liar=True, seed=seed)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    pending, told, told_a, ask_seconds, ask_cpu_seconds = [], [], [], [], []
    hv = {}
    while len(told) < trials:
        while len(pending) < workers and len(told) + len(pending) < trials:
            start, start_cpu = time.perf_counter(), time.process_time()
            trial = study.ask()
            x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(10)])
            c = ["a", "b"].index(trial.suggest_categorical("c", ["a", "b"]))
            ask_seconds.append(time.perf_counter() - start)
            ask_cpu_seconds.append(time.process_time() - start_cpu)
            pending.append((trial, objective(x, c), c == 0))
        trial, values, choice_a = pending.pop(0)
        study.tell(trial, list(values))
        told.append(list(values))
        told_a.append(choice_a)
        if len(told) in (60, 100, 150, 200) or len(told) == trials:
            hv[str(len(told))] = hypervolume_2d(told, ref)
    model_asks = ask_seconds[startup:] or [float("nan")]
    model_asks_cpu = ask_cpu_seconds[startup:] or [float("nan")]
    return {"problem": problem, "seed": seed, "workers": workers, "hv": hv,
            "ask_ms_model": 1000 * float(np.mean(model_asks)),
            "ask_ms_last20": 1000 * float(np.mean(ask_seconds[-20:])),
            "ask_cpu_ms_model": 1000 * float(np.mean(model_asks_cpu)),
            "frac_a_last100": float(np.mean(told_a[-100:])),
            "values": told, "optuna": optuna.__version__}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--problem", required=True, choices=sorted(PROBLEMS))
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--startup", type=int, default=60)
    parser.add_argument("--candidates", type=int, default=128)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    for seed in args.seeds:
        result = run(args.problem, seed, args.trials, args.startup, args.candidates, args.workers)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
