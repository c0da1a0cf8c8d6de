"""PyTorch reference for the zoo-throughput benchmark of `make bench`.

Trains `--members` Small-CNN-Zoo CNNs one after another, each for `--epochs` epochs over
`--images` random 28x28 images (batch 64, Adam 1e-3, softmax cross-entropy), then evaluates each
on `--test` images — the same loop `nfn-bench` times in SwiftNFN. Prints
{"zoo_members_per_minute": {"median_ms": <ms per member>, "members_per_minute": ...}}.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2), nn.ReLU(),
        nn.Conv2d(16, 16, 3, stride=2), nn.ReLU(),
        nn.Conv2d(16, 16, 3, stride=2), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3, help="members trained")
    ap.add_argument("--images", type=int, default=4000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--cases", default="zoo_members_per_minute")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.images, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (args.images,), generator=g)
    xt = torch.randn(args.test, 1, 28, 28, generator=g)
    per_member = []
    for m in range(args.repeats):
        torch.manual_seed(m)
        t0 = time.perf_counter()
        model = small_cnn()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(args.epochs):
            perm = torch.randperm(args.images)
            for i in range(0, args.images, 64):
                idx = perm[i:i + 64]
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(model(x[idx]), y[idx]).backward()
                opt.step()
        with torch.no_grad():
            for i in range(0, args.test, 1000):
                model(xt[i:i + 1000]).argmax(1)
        per_member.append((time.perf_counter() - t0) * 1e3)
    per_member.sort()
    med = per_member[len(per_member) // 2]
    print(json.dumps({"zoo_members_per_minute": {"median_ms": med, "members_per_minute": 60000 / med}}))


if __name__ == "__main__":
    main()
