"""PyTorch CPU reference timings for `make bench` (side by side with SwiftNFN, same machine).

Each case mirrors a SwiftNFN benchmark case exactly (shapes, loss, optimizer). Prints one JSON
object {case_name: {"median_ms": ..., "samples": [...]}} on stdout. Never needed by the project:
when torch is absent the Swift harness skips this column.
"""
import argparse
import json
import statistics

import torch
import torch.nn as nn
import torch.nn.functional as F
from bench_timing import timed_samples


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2), nn.ReLU(),
        nn.Conv2d(16, 16, 3, stride=2), nn.ReLU(),
        nn.Conv2d(16, 16, 3, stride=2), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


def time_steps(model, x, y, repeats, warmup):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return timed_samples(step, repeats, warmup)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--cases", default="cnn_train_step,mlp_train_step")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = {}
    cases = args.cases.split(",")
    if "cnn_train_step" in cases:
        x = torch.randn(args.batch, 1, 28, 28)
        y = torch.randint(0, 10, (args.batch,))
        out["cnn_train_step"] = time_steps(small_cnn(), x, y, args.repeats, args.warmup)
    if "mlp_train_step" in cases:
        x = torch.randn(args.batch, 784)
        y = torch.randint(0, 10, (args.batch,))
        out["mlp_train_step"] = time_steps(mlp(), x, y, args.repeats, args.warmup)
    print(json.dumps({k: {"median_ms": statistics.median(v), "samples": v} for k, v in out.items()}))


if __name__ == "__main__":
    main()
