#!/usr/bin/python3
"""Regenerates every committed golden case with its generator and compares the two numerically.

Each case file in the golden folder must have its recipe in CASES (the generator and its arguments); a case whose
regenerated numbers differ from the committed ones by more than TOLERANCE * max(1, |committed value|), or whose
structure differs (keys, lengths, strings, integers), fails the check. Needs Debian's python3-torch (float64 on CPU).

Usage: reproduce.py [CASE.json ...]     (default: every *.json in the golden folder)
Exit status: 0 when every case is reproduced, 1 otherwise.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.dirname(HERE)

# case file -> generator and its arguments (the output path is inserted after the seed); the one place that says how
# each committed case was made. Add a line when you add a case.
CASES = {
    "sgd-vgg4-seed7.json": ["make_golden.py", "7"],
    "adamw-vgg4-seed7.json": ["make_golden_adamw.py", "7"],
    "sgd-dw2-seed5.json": ["make_golden_dw.py", "5"],
}

# float64 end to end: the committed files were reproduced bit for bit with Debian's torch 1.13.1 here; the tolerance
# leaves room for another torch or BLAS build summing in another order.
TOLERANCE = 1e-12


def shape(value):
    if isinstance(value, dict):
        return f"keys {sorted(value)}"
    return f"{len(value)} values" if isinstance(value, list) else type(value).__name__


def compare(expected, actual, path, worst):
    """Appends structural differences to worst['errors'] and tracks the largest numeric difference."""
    if isinstance(expected, bool) or isinstance(actual, bool) or isinstance(expected, str) or expected is None:
        if expected != actual:
            worst["errors"].append(f"{path}: committed {expected!r}, regenerated {actual!r}")
        return
    if isinstance(expected, (dict, list)):
        if type(actual) is not type(expected) or len(actual) != len(expected) or (
                isinstance(expected, dict) and set(actual) != set(expected)):
            worst["errors"].append(f"{path}: committed {shape(expected)}, regenerated {shape(actual)}")
            return
        for k in (expected if isinstance(expected, dict) else range(len(expected))):
            compare(expected[k], actual[k], f"{path}.{k}" if isinstance(expected, dict) else f"{path}[{k}]", worst)
        return
    if isinstance(expected, int) and isinstance(actual, int):
        if expected != actual:
            worst["errors"].append(f"{path}: committed {expected}, regenerated {actual}")
        return
    if not isinstance(actual, (int, float)):
        worst["errors"].append(f"{path}: committed a number, regenerated {type(actual).__name__}")
        return
    diff = abs(float(expected) - float(actual))
    if math.isnan(diff):
        diff = 0.0 if math.isnan(expected) and math.isnan(actual) else math.inf
    worst["values"] += 1
    if diff > worst["diff"]:
        worst["diff"], worst["where"] = diff, path
    if diff > TOLERANCE * max(1.0, abs(float(expected))):
        worst["errors"].append(f"{path}: committed {expected!r}, regenerated {actual!r} (difference {diff:.3g})")


def reproduce(case_file, workdir):
    name = os.path.basename(case_file)
    if name not in CASES:
        return [f"{name}: no recipe in CASES (reproduce.py): say which generator and arguments made it"]
    generator, seed, *rest = CASES[name]
    out = os.path.join(workdir, name)
    cmd = [sys.executable, os.path.join(HERE, generator), seed, out, *rest]
    run = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True)
    if run.returncode != 0:
        return [f"{name}: {' '.join(cmd)} failed ({run.returncode}):\n{run.stderr}"]
    with open(case_file) as f:
        committed = json.load(f)
    with open(out) as f:
        regenerated = json.load(f)
    worst = {"diff": 0.0, "where": None, "values": 0, "errors": []}
    compare(committed, regenerated, name, worst)
    print(f"{name}: {generator} {seed} {' '.join(rest)}".rstrip() + f": {worst['values']} numbers, largest difference "
          f"{worst['diff']:.3g}" + (f" at {worst['where']}" if worst["where"] else "")
          + (" - REPRODUCED" if not worst["errors"] else f" - {len(worst['errors'])} MISMATCH(ES)"))
    return worst["errors"][:20]


def main(argv):
    files = argv or sorted(os.path.join(GOLDEN, f) for f in os.listdir(GOLDEN) if f.endswith(".json"))
    if not files:
        print(f"no golden case in {GOLDEN}", file=sys.stderr)
        return 1
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            errors += reproduce(f, tmp)
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
