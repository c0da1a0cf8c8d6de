"""PyTorch CPU reference for SwiftNFN's permutation family (NPLinear, HNPLinear, NPPool, HNPPool,
NFNPredictor) — the same math as Sources/Metanetworks/Permutation, written independently.

Timing: forward + backward (sum of the outputs, .backward()) of NFNPredictor(.hnp) with hidden
channels [16, 16, 16] and a 1000-wide head on a batch of Small-CNN-Zoo weight sets. Prints one JSON
object {case: {"median_ms": ..., "samples": [...]}}.

Cross-check: `--check FILE.safetensors` loads parameters (Swift parameter paths), the input
features (`input.w{i}`, `input.b{i}`) and Swift's output (`output`) written by a Swift run, recomputes
the output here and prints the max abs / relative difference.
"""
import argparse
import json
import math
import statistics
import struct

import numpy as np
import torch
from torch import nn
from bench_timing import timed_samples

# Small CNN Zoo: 3 × conv 3×3 (16 filters), global average pool, dense 16 → 10; 1 input channel.
SMALL_CNN_ZOO = {"widths": [1, 16, 16, 16, 10], "kernels": [[3, 3], [3, 3], [3, 3], []]}


def prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def fold(w):
    """[B, C, n, m, k...] -> [B, C*prod(k), n, m] (taps after channels)."""
    if w.dim() == 4:
        return w
    b, c, n, m = w.shape[:4]
    return w.permute(0, 1, *range(4, w.dim()), 2, 3).reshape(b, -1, n, m)


def unfold(x, kernel):
    if not kernel:
        return x
    b, f, n, m = x.shape
    s = len(kernel)
    return x.reshape(b, f // prod(kernel), *kernel, n, m).permute(0, 1, s + 2, s + 3, *range(2, s + 2))


def mix(weight, x):
    """Channel mixing [O, I] x [B, I, ...] -> [B, O, ...]."""
    b, i = x.shape[:2]
    rest = x.shape[2:]
    return (weight @ x.reshape(b, i, -1)).reshape(b, weight.shape[0], *rest)


def linear(x, weight, bias):
    return x @ weight.t() + bias


class Terms(nn.Module):
    """Per-layer coefficients; names match the Swift parameter paths."""

    def __init__(self, pointwise, glob, column, row, bias_row, bias_global):
        super().__init__()
        wfan = (pointwise[1] if pointwise else 0) + glob[1] + (column[1] if column else 0) + (row[1] if row else 0)
        aw = 1 / math.sqrt(max(wfan, 1))
        bfan = (bias_row[1] if bias_row else 0) + bias_global[1]
        ab = 1 / math.sqrt(max(bfan, 1))

        def u(shape, a):
            return nn.Parameter(torch.empty(*shape).uniform_(-a, a))

        if pointwise:
            self.register_parameter("pointwise", u(pointwise, aw))
        self.register_parameter("global", u(glob, aw))
        self.register_parameter("globalBias", u(glob[:1], aw))
        if column:
            self.register_parameter("columnTerm", u(column, aw))
        if row:
            self.register_parameter("rowTerm", u(row, aw))
        if bias_row:
            self.register_parameter("biasRow", u(bias_row, ab))
        self.register_parameter("biasGlobal", u(bias_global, ab))
        self.register_parameter("biasBias", u(bias_global[:1], ab))

    def p(self, name):
        return getattr(self, name)


def combine(pointwise, glob, column, row):
    """pointwise [B,O,n,m] + glob [B,O] + column [B,O,m] + row [B,O,n]."""
    out = pointwise
    if glob is not None:
        out = out + glob[:, :, None, None]
    if column is not None:
        out = out + column[:, :, None, :]
    if row is not None:
        out = out + row[:, :, :, None]
    return out


class NPLinear(nn.Module):
    def __init__(self, c, o, widths, factors):
        super().__init__()
        L = len(factors)
        f = factors
        g = (sum(f) + L) * c
        terms = []
        for i in range(L):
            col = f[i] * c + ((f[i - 1] + 1) * c if i > 0 else 0)
            row = (f[i] + 1) * c + (f[i + 1] * c if i < L - 1 else 0)
            terms.append(Terms((f[i] * o, f[i] * c), (f[i] * o, g), (f[i] * o, col), (f[i] * o, row), (o, row), (o, g)))
        self.terms = nn.ModuleList(terms)
        self.o = o

    def forward(self, weights, biases):
        L = len(weights)
        kernels = [list(w.shape[4:]) for w in weights]
        w = [fold(x) for x in weights]
        v = biases
        over_rows = [x.mean(2) for x in w]
        over_cols = [x.mean(3) for x in w]
        g = torch.cat([x.mean(2) for x in over_cols] + [x.mean(2) for x in v], 1)
        ow, ob = [], []
        for i in range(L):
            t = self.terms[i]
            colf = [over_rows[i]] + ([over_cols[i - 1], v[i - 1]] if i > 0 else [])
            rowf = [over_cols[i], v[i]] + ([over_rows[i + 1]] if i < L - 1 else [])
            ci, ri = torch.cat(colf, 1), torch.cat(rowf, 1)
            z = combine(mix(t.p("pointwise"), w[i]), linear(g, t.p("global"), t.p("globalBias")),
                        mix(t.p("columnTerm"), ci), mix(t.p("rowTerm"), ri))
            ow.append(unfold(z, kernels[i]))
            ob.append(mix(t.p("biasRow"), ri) + linear(g, t.p("biasGlobal"), t.p("biasBias"))[:, :, None])
        return ow, ob


class HNPLinear(nn.Module):
    def __init__(self, c, o, widths, factors, last_uses_prev_bias=True):
        super().__init__()
        L = len(factors)
        f = factors
        n0, nL = widths[0], widths[-1]
        self.n0, self.nL, self.o, self.f = n0, nL, o, f
        self.last_uses_prev_bias = last_uses_prev_bias
        g = (sum(f) + L + f[0] * n0 + f[-1] * nL + nL) * c
        in_row, out_col = f[0] * n0 * c, f[-1] * nL * c
        terms = []
        for i in range(L):
            if i == 0:
                row = in_row + f[1] * c + c + (out_col if L == 2 else 0)
                terms.append(Terms(None, (n0 * f[0] * o, g), None, (n0 * f[0] * o, row), (o, row), (o, g)))
            elif i == L - 1:
                col = out_col + f[L - 2] * c + (c if last_uses_prev_bias else 0) + (in_row if L == 2 else 0)
                terms.append(Terms(None, (nL * f[i] * o, g), (nL * f[i] * o, col), None, None, (nL * o, g)))
            else:
                col = (f[i] + f[i - 1] + 1) * c + (in_row if i == 1 else 0)
                row = (f[i] + 1 + f[i + 1]) * c + (out_col if i == L - 2 else 0)
                terms.append(Terms((f[i] * o, f[i] * c), (f[i] * o, g), (f[i] * o, col), (f[i] * o, row), (o, row), (o, g)))
        self.terms = nn.ModuleList(terms)

    def forward(self, weights, biases):
        L = len(weights)
        b = weights[0].shape[0]
        o, f, n0, nL = self.o, self.f, self.n0, self.nL
        kernels = [list(w.shape[4:]) for w in weights]
        w = [fold(x) for x in weights]
        v = biases
        over_rows = [x.mean(2) for x in w]
        over_cols = [x.mean(3) for x in w]
        input_rows = w[0].transpose(2, 3).reshape(b, -1, w[0].shape[2])
        output_cols = w[-1].reshape(b, -1, w[-1].shape[3])
        g = torch.cat([x.mean(2) for x in over_cols] + [x.mean(2) for x in v]
                      + [over_rows[0].reshape(b, -1), over_cols[-1].reshape(b, -1), v[-1].reshape(b, -1)], 1)
        ow, ob = [], []
        for i in range(L):
            t = self.terms[i]
            n, m = w[i].shape[2], w[i].shape[3]
            glob = linear(g, t.p("global"), t.p("globalBias"))
            bglob = linear(g, t.p("biasGlobal"), t.p("biasBias"))
            if i == 0:
                rowf = [input_rows, over_rows[1], v[0]] + ([output_cols] if L == 2 else [])
                ri = torch.cat(rowf, 1)
                per_row = mix(t.p("rowTerm"), ri).reshape(b, f[0] * o, n0, n).transpose(2, 3)
                z = combine(per_row, None, glob.reshape(b, f[0] * o, n0), None)
                ow.append(unfold(z, kernels[i]))
                ob.append(mix(t.p("biasRow"), ri) + bglob[:, :, None])
            elif i == L - 1:
                colf = [output_cols, over_cols[L - 2]] + ([v[L - 2]] if self.last_uses_prev_bias else []) \
                    + ([input_rows] if L == 2 else [])
                ci = torch.cat(colf, 1)
                per_col = mix(t.p("columnTerm"), ci).reshape(b, f[i] * o, nL, m)
                z = combine(per_col, None, None, glob.reshape(b, f[i] * o, nL))
                ow.append(unfold(z, kernels[i]))
                ob.append(bglob.reshape(b, o, nL))
            else:
                colf = [over_rows[i], over_cols[i - 1], v[i - 1]] + ([input_rows] if i == 1 else [])
                rowf = [over_cols[i], v[i], over_rows[i + 1]] + ([output_cols] if i == L - 2 else [])
                ci, ri = torch.cat(colf, 1), torch.cat(rowf, 1)
                z = combine(mix(t.p("pointwise"), w[i]), glob, mix(t.p("columnTerm"), ci), mix(t.p("rowTerm"), ri))
                ow.append(unfold(z, kernels[i]))
                ob.append(mix(t.p("biasRow"), ri) + bglob[:, :, None])
        return ow, ob


def np_pool(weights, biases):
    b, c = weights[0].shape[:2]
    parts = []
    for w, v in zip(weights, biases):
        parts.append(w.mean((2, 3)).reshape(b, c, -1))
        parts.append(v.mean(2).reshape(b, c, 1))
    return torch.cat(parts, 2).reshape(b, -1)


def hnp_pool(weights, biases):
    b, c = weights[0].shape[:2]
    L = len(weights)
    parts = []
    for i, (w, v) in enumerate(zip(weights, biases)):
        if i == 0:
            parts.append(w.mean(2).reshape(b, c, -1))
        elif i == L - 1:
            parts.append(w.mean(3).reshape(b, c, -1))
        else:
            parts.append(w.mean((2, 3)).reshape(b, c, -1))
        parts.append(v if i == L - 1 else v.mean(2).reshape(b, c, 1))
    return torch.cat(parts, 2).reshape(b, -1)


class Head(nn.Module):
    def __init__(self, inputs, hidden, outputs):
        super().__init__()
        widths = [inputs] + hidden + [outputs]
        self.layers = nn.ModuleList([nn.Linear(widths[i], widths[i + 1]) for i in range(len(widths) - 1)])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


class Identity(nn.Module):
    pass


class NFNPredictor(nn.Module):
    """Same layer order as the Swift `layers` array: (linear, relu) per hidden size."""

    def __init__(self, kind, widths, kernels, hidden, head_hidden, outputs=1):
        super().__init__()
        factors = [prod(k) for k in kernels]
        layers, c = [], 1
        for h in hidden:
            layers.append((NPLinear if kind == "np" else HNPLinear)(c, h, widths, factors))
            layers.append(Identity())  # ReLU, no parameters
            c = h
        self.layers = nn.ModuleList(layers)
        self.kind = kind
        if kind == "np":
            pooled = c * sum(f + 1 for f in factors)
        else:
            L = len(factors)
            pooled = c * sum((widths[0] * f + 1) if i == 0 else (widths[-1] * f + widths[-1]) if i == L - 1 else (f + 1)
                             for i, f in enumerate(factors))
        self.head = Head(pooled, [head_hidden, head_hidden], outputs)

    def pooled(self, weights, biases):
        w, v = weights, biases
        for layer in self.layers:
            if isinstance(layer, Identity):
                w, v = [torch.relu(x) for x in w], [torch.relu(x) for x in v]
            else:
                w, v = layer(w, v)
        return np_pool(w, v) if self.kind == "np" else hnp_pool(w, v)

    def forward(self, weights, biases):
        return self.head(self.pooled(weights, biases))


def random_features(batch, spec, gen):
    weights, biases = [], []
    widths, kernels = spec["widths"], spec["kernels"]
    for i, k in enumerate(kernels):
        weights.append(torch.randn(batch, 1, widths[i + 1], widths[i], *k, generator=gen))
        biases.append(torch.randn(batch, 1, widths[i + 1], generator=gen))
    return weights, biases


def time_fwd_bwd(model, weights, biases, repeats, warmup):
    def step():
        model.zero_grad(set_to_none=True)
        out = model(weights, biases)
        out.sum().backward()

    return timed_samples(step, repeats, warmup)


def load_safetensors(path):
    with open(path, "rb") as fh:
        n = struct.unpack("<Q", fh.read(8))[0]
        header = json.loads(fh.read(n))
        data = fh.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"]).copy())
    return out, header.get("__metadata__", {})


def check(path):
    tensors, meta = load_safetensors(path)
    kind = meta["kind"]
    hidden = [int(x) for x in meta["hidden"].split(",")]
    model = NFNPredictor(kind, SMALL_CNN_ZOO["widths"], SMALL_CNN_ZOO["kernels"], hidden, int(meta["head"]))
    params = {k: v for k, v in tensors.items() if not (k.startswith("input.") or k in ("output", "pooled"))}
    own = dict(model.named_parameters())
    assert set(own) == set(params), (sorted(set(own) ^ set(params)))
    with torch.no_grad():
        for k, v in params.items():
            assert own[k].shape == v.shape, (k, own[k].shape, v.shape)
            own[k].copy_(v)
        L = len(SMALL_CNN_ZOO["kernels"])
        weights = [tensors[f"input.w{i}"] for i in range(L)]
        biases = [tensors[f"input.b{i}"] for i in range(L)]
        out = model(weights, biases)
        pooled = model.pooled(weights, biases)
    ref = tensors["output"]
    diff = (out - ref).abs().max().item()
    result = {"kind": kind}
    if "pooled" in tensors:
        pdiff = (pooled - tensors["pooled"]).abs().max().item()
        result["pooled_max_rel_diff"] = pdiff / tensors["pooled"].abs().max().item()
    print(json.dumps({**result, "max_abs_diff": diff, "max_rel_diff": diff / ref.abs().max().item(),
                      "output_sample": out.flatten()[:4].tolist(), "swift_sample": ref.flatten()[:4].tolist()}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--hidden", default="16,16,16")
    ap.add_argument("--head", type=int, default=1000)
    ap.add_argument("--cases", default="nfn_hnp_small_cnn_zoo_fwd_bwd,nfn_np_small_cnn_zoo_fwd_bwd")
    ap.add_argument("--check", default=None, help="safetensors file written by the Swift cross-check")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.check:
        check(args.check)
        return
    hidden = [int(x) for x in args.hidden.split(",")]
    gen = torch.Generator().manual_seed(0)
    weights, biases = random_features(args.batch, SMALL_CNN_ZOO, gen)
    out = {}
    for case in args.cases.split(","):
        kind = "hnp" if "hnp" in case else "np"
        model = NFNPredictor(kind, SMALL_CNN_ZOO["widths"], SMALL_CNN_ZOO["kernels"], hidden, args.head)
        samples = time_fwd_bwd(model, weights, biases, args.repeats, args.warmup)
        out[case] = {"median_ms": statistics.median(samples), "samples": samples,
                     "parameters": sum(p.numel() for p in model.parameters())}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
