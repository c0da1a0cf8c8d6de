"""Python xgboost reference for the tree-ensemble rows of `make bench`.

Loads the STATNN feature matrix and targets that nfn-bench wrote (`--features`, `--labels`, .npy),
then times `--repeats` fits of the same ensemble nfn-bench fits through libxgboost's C API:
DMatrix construction plus `xgb.train` with identical parameters (passed as JSON by nfn-bench).
Prints {"<case>": {"median_ms": ..., "trees": ..., "leaves": ..., "version": ...}}.
"""
import argparse
import json
import statistics
import time

import numpy as np
import xgboost as xgb


def leaves(booster):
    return sum(tree.count('"leaf"') for tree in booster.get_dump(dump_format="json"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", default="")
    ap.add_argument("--features", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--params", required=True, help="JSON: {case: {params: {...}, rounds: n}}")
    args = ap.parse_args()
    x = np.load(args.features)
    y = np.load(args.labels)
    out = {}
    for case, spec in json.loads(args.params).items():
        params = dict(spec["params"], nthread=str(args.threads))
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            booster = xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=spec["rounds"])
            times.append((time.perf_counter() - t0) * 1e3)
        out[case] = {"median_ms": statistics.median(times), "trees": len(booster.get_dump()),
                     "leaves": leaves(booster), "version": xgb.__version__}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
