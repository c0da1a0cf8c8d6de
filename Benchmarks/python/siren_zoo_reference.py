"""PyTorch reference for the SIREN-zoo throughput benchmark of `make bench`.

Fits `--members` SIRENs (2 -> 32 -> 32 -> 1, sine layers with w0 = 30, the SIREN initialisation)
to `--members` random 28x28 images at once, as one batched model: every layer is a torch.bmm over
the member axis and every member has its own Adam moments (Adam is elementwise, so one Adam over
the stacked parameters is K independent Adams). `--steps` full-batch steps at learning rate 1e-3,
the recipe SwiftNFN's SIREN zoo uses. Prints
{"siren_zoo_member": {"median_ms": <ms per member>, "members_per_minute": ...}}.
"""
import argparse
import json
import math
import time

import torch


def siren_batch(k, widths, w0, g):
    params = []
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        bound = 1 / fan_in if i == 0 else math.sqrt(6 / fan_in) / w0
        w = (torch.rand(k, fan_in, fan_out, generator=g) * 2 - 1) * bound
        b = (torch.rand(k, 1, fan_out, generator=g) * 2 - 1) / math.sqrt(fan_in)
        if i == len(widths) - 2:
            b = torch.zeros(k, 1, fan_out)
        params += [w.requires_grad_(), b.requires_grad_()]
    return params


def forward(params, coords, w0):
    h = coords
    layers = len(params) // 2
    for i in range(layers):
        h = torch.baddbmm(params[2 * i + 1], h, params[2 * i])
        if i < layers - 1:
            h = torch.sin(w0 * h)
    return h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3, help="timed batches")
    ap.add_argument("--members", type=int, default=32)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--cases", default="siren_zoo_member")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    side = 28
    lin = torch.linspace(-1, 1, side)
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    coords = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
    k = args.members
    coords = coords.unsqueeze(0).expand(k, -1, -1).contiguous()
    per_member = []
    for _ in range(args.repeats):
        targets = torch.rand(k, side * side, 1, generator=g)
        t0 = time.perf_counter()
        params = siren_batch(k, [2, 32, 32, 1], 30.0, g)
        opt = torch.optim.Adam(params, lr=1e-3)
        for _ in range(args.steps):
            opt.zero_grad(set_to_none=True)
            # Sum over members of each member's mean: each member's gradient is its own MSE's.
            loss = ((forward(params, coords, 30.0) - targets) ** 2).mean(dim=(1, 2)).sum()
            loss.backward()
            opt.step()
        per_member.append((time.perf_counter() - t0) * 1e3 / k)
    per_member.sort()
    med = per_member[len(per_member) // 2]
    print(json.dumps({"siren_zoo_member": {"median_ms": med, "members_per_minute": 60000 / med}}))


if __name__ == "__main__":
    main()
