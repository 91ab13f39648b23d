#!/usr/bin/python3
"""The memory planner's estimates against measured peaks, on a random-weight model of >= 1 GiB.

    /usr/bin/python3 tools/bench/memory/plan_vs_peak.py [--model /tmp/heretic-random-1g] [--prompts 8]

Runs the same small job (a few prompts, one trial) in three layouts, in the same invocation:
1 rank, mpirun -n 2 with mpi.tensor_parallel = 2, and mpirun -n 2 with mpi.pipeline_stages = 2. For each rank it prints the peak resident
memory that results.h5 (/memory) recorded after loading and over the whole run, the planner's
estimate for that layout (`heretic-mpi plan --config`, at the job's batch ceiling) and the
model's weights divided by the ranks of the copy, and the machine. Makes the model with make_random_model.py when the folder
does not exist (never commit it). Needs build/heretic-mpi, mpirun and Debian's python3-torch and
python3-h5py (/usr/bin/python3).
"""
import argparse
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile

import h5py

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXE = ROOT / "build" / "heretic-mpi"
PROMPTS = ROOT / "tests" / "fixtures" / "organism" / "prompts"
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
PROMPT_TOKENS = 128  # the planner's assumption for the longest prompt (organism prompts are shorter)


def gib(value):
    return f"{value / 2**30:.2f} GiB"


def parse_bytes(text):
    number, unit = text.split()
    return float(number) * UNITS[unit]


def write_job(folder, model, tensor_parallel, pipeline_stages, prompts):
    split = f'"[:{prompts}]"'
    lines = [
        f'model = "{model}"', 'dtypes = ["float32"]', "max_batch_size = 8", "max_response_length = 8",
        'response_prefix = ""', "n_trials = 1", "n_startup_trials = 1",
        f'[good_prompts]\ndataset = "{PROMPTS / "harmless_train.txt"}"\nsplit = {split}',
        f'[bad_prompts]\ndataset = "{PROMPTS / "harmful_train.txt"}"\nsplit = {split}',
        f'[scorer.KeywordRate.prompts]\ndataset = "{PROMPTS / "harmful_test.txt"}"\nsplit = {split}',
        f'[scorer.KLDivergence.prompts]\ndataset = "{PROMPTS / "harmless_test.txt"}"\nsplit = {split}',
        f"[mpi]\ntensor_parallel = {tensor_parallel}\npipeline_stages = {pipeline_stages}",
        f'[output]\ndir = "{folder / "out"}"',
    ]
    job = folder / "job.toml"
    job.write_text("\n".join(lines) + "\n")
    return job


def planner(job):
    """(total, weights) of the largest rank of the configured layout, as `plan` prints them."""
    result = subprocess.run([str(EXE), "plan", "--config", str(job), "--prompt-tokens", str(PROMPT_TOKENS),
                             "--memory-per-device", "64GiB"], capture_output=True, text=True, check=True)
    match = re.search(r"the configured layout \d+ x \d+: weights ([\d.]+ \w+) \+ KV cache ([\d.]+ \w+) \+ "
                      r"activations ([\d.]+ \w+) \+ workspace ([\d.]+ \w+) = ([\d.]+ \w+)", result.stdout)
    if not match:
        sys.exit("plan_vs_peak: unexpected plan output:\n" + result.stdout)
    return [parse_bytes(group) for group in match.groups()]


def measure(folder, job, ranks):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = [str(EXE), "--config", str(job)]
    if ranks > 1:
        command = ["mpirun", "-n", str(ranks), "--oversubscribe"] + command
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"plan_vs_peak: the {ranks}-rank run failed:\n{result.stderr[-3000:]}")
    with h5py.File(folder / "out" / "results.h5", "r") as results:
        memory = results["memory"]
        phases = list(memory.attrs["phases"])
        peaks = memory["peak_resident_bytes"][()]
    return phases, peaks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=pathlib.Path, default=pathlib.Path("/tmp/heretic-random-1g"))
    parser.add_argument("--prompts", type=int, default=8)
    args = parser.parse_args()
    if not EXE.exists():
        sys.exit(f"plan_vs_peak: {EXE} not found; run tools/build.sh first")
    if not args.model.exists():
        subprocess.run([sys.executable, str(pathlib.Path(__file__).with_name("make_random_model.py")),
                        str(args.model)], check=True)
    weights = sum(f.stat().st_size for f in args.model.glob("*.safetensors"))
    with open("/proc/cpuinfo") as cpuinfo:
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    with open("/proc/meminfo") as meminfo:
        mem_total = int(meminfo.readline().split()[1]) * 1024
    print(f"machine: {platform.node()}, {cpu}, {os.cpu_count()} cores, {gib(mem_total)}, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"model: {args.model} ({gib(weights)} of float32 safetensors); job: {args.prompts} prompts per set, "
          f"1 trial, batch ceiling 8, 8 response tokens; planner: longest prompt {PROMPT_TOKENS} tokens (assumed)")
    print(f"{'layout':<22} {'rank':>4} {'peak after load':>16} {'peak of run':>12} {'planner':>10} "
          f"{'weights/n':>10} {'run/plan':>9} {'run - weights/n':>16}")
    for tensor_parallel, stages in ((1, 1), (2, 1), (1, 2)):
        with tempfile.TemporaryDirectory(prefix="heretic-plan-vs-peak-") as scratch:
            folder = pathlib.Path(scratch)
            job = write_job(folder, args.model, tensor_parallel, stages, args.prompts)
            plan_weights, _, _, _, total = planner(job)
            ranks = tensor_parallel * stages
            phases, peaks = measure(folder, job, ranks)
            load = phases.index("load")
            share = weights / ranks
            name = "1 rank" if ranks == 1 else (f"mpirun -n {ranks}, t={tensor_parallel}" if stages == 1
                                                else f"mpirun -n {ranks}, p={stages}")
            for rank, row in enumerate(peaks):
                run_peak = max(row)
                print(f"{name:<22} {rank:>4} {gib(row[load]):>16} {gib(run_peak):>12} {gib(total):>10} "
                      f"{gib(share):>10} {run_peak / total:>8.2f}x {gib(run_peak - share):>16}")
            print(f"{'':<22} planner weights of the largest rank {gib(plan_weights)}")
    print("peak = VmHWM (resident, file-backed pages of the mapped safetensors included) from results.h5 /memory;")
    print("planner = weights + KV cache + activations + workspace of the largest rank (model/memory_plan.h).")


if __name__ == "__main__":
    main()
