"""PyTorch CPU reference for SwiftNFN's Monomial-NFN (Sources/Metanetworks/Monomial).

The same math and the same parameter layouts as the Swift `MonomialLinear`, `MonomialNonlinearity`,
`MonomialInvariantPool` and `MonomialPredictor` (written from the Swift code and Tran et al. 2024,
"Monomial Matrix Group Equivariant Neural Functional Networks", Sec. 5, not from the reference
repository MathematicalAI-NUS/Monomial-NFN), so Swift parameters saved with
`Module.saveParameters` load here one to one.

Timing (default): forward + backward (sum of outputs) of MonomialPredictor(.positiveScaling) with
hidden channels 16, 16, 16, MLP head 200-200-1, on a batch of random Small CNN Zoo weight sets.
Prints one JSON object {case: {"median_ms": ..., "samples": [...]}}.

`--kind sign` uses the sign group (tanh, |x| pooling, the Z and Ω terms) instead.

Cross-check: `--check params.safetensors io.safetensors` loads a Swift model's parameters and an
input/output pair (tensors w0..w3, b0..b3, out) and prints the max relative deviation.
"""
import argparse
import json
import math
import statistics
import struct
import time

import torch
import torch.nn as nn

# Small CNN Zoo: 3 × conv 3×3 (1 → 16 → 16 → 16), dense 16 → 10.
ZOO_WIDTHS = [1, 16, 16, 16, 10]
ZOO_KERNELS = [[3, 3], [3, 3], [3, 3], []]


def prod(xs):
    return math.prod(xs) if xs else 1


class MonomialLinear(nn.Module):
    """W̃⁽¹⁾ row mixing, hidden channel(×tap) mixing, W̃⁽ᴸ⁾ column mixing; see MonomialLinear.swift."""

    def __init__(self, c, co, widths, kernels, kind="positiveScaling"):
        super().__init__()
        self.c, self.co, self.widths, self.kernels, self.kind = c, co, widths, kernels, kind
        L = len(kernels)
        f = [prod(k) for k in kernels]
        n0, nL = widths[0], widths[L]

        def block(shape, fan_in):
            a = 1 / math.sqrt(fan_in)
            return nn.Parameter(torch.empty(shape).uniform_(-a, a))

        first_in = c * n0 * f[0] + c
        self.first = block([first_in, co * n0 * f[0] + co], first_in)
        self.hiddenWeights = nn.ParameterList([block([co * f[i], c * f[i]], c * f[i]) for i in range(1, L - 1)])
        self.hiddenBiases = nn.ParameterList([block([co, c], c) for i in range(1, L - 1)])
        s = 1 if kind == "sign" else 0
        last_in = c * nL * f[L - 1] + s * c
        self.last = block([last_in, co * nL * f[L - 1]], last_in)
        self.lastBias = block([c * nL, co * nL], c * nL + 1)
        self.outputBias = block([co * nL], c * nL + 1)
        self.signBias = block([c * nL * f[L - 1], co], c + c * nL * f[L - 1]) if kind == "sign" else None

    @staticmethod
    def mix(x, t, taps, co):
        b, c = x.shape[0], x.shape[1]
        out_shape = [b, co] + list(x.shape[2:])
        entries = x[0, 0].numel() // taps
        if taps == 1:
            return torch.matmul(t, x.reshape(b, c, entries)).reshape(out_shape)
        folded = x.reshape(b, c, entries, taps).permute(0, 1, 3, 2).reshape(b, c * taps, entries)
        y = torch.matmul(t, folded).reshape(b, co, taps, entries).permute(0, 1, 3, 2)
        return y.reshape(out_shape)

    def forward(self, W, V):
        b, c, co = W[0].shape[0], self.c, self.co
        n, k = self.widths, self.kernels
        L = len(k)
        f = [prod(x) for x in k]
        out_w, out_b = [], []
        n0, n1 = n[0], n[1]
        row_w = W[0].reshape(b, c, n1, n0 * f[0]).permute(0, 2, 1, 3).reshape(b * n1, c * n0 * f[0])
        row_v = V[0].permute(0, 2, 1).reshape(b * n1, c)
        y = torch.cat([row_w, row_v], 1) @ self.first
        w_out = co * n0 * f[0]
        out_w.append(y[:, :w_out].reshape(b, n1, co, n0 * f[0]).permute(0, 2, 1, 3).reshape([b, co, n1, n0] + k[0]))
        out_b.append(y[:, w_out:].reshape(b, n1, co).permute(0, 2, 1))
        for i in range(1, L - 1):
            out_w.append(self.mix(W[i], self.hiddenWeights[i - 1], f[i], co))
            out_b.append(self.mix(V[i], self.hiddenBiases[i - 1], 1, co))
        nL, kk, fL = n[L], n[L - 1], f[L - 1]
        col_w = W[L - 1].reshape(b, c, nL, kk, fL).permute(0, 3, 1, 2, 4).reshape(b * kk, c * nL * fL)
        cols = col_w
        if self.kind == "sign":
            cols = torch.cat([col_w, V[L - 2].permute(0, 2, 1).reshape(b * kk, c)], 1)
        out_w.append((cols @ self.last).reshape(b, kk, co, nL, fL).permute(0, 2, 3, 1, 4).reshape([b, co, nL, kk] + k[L - 1]))
        out_b.append((V[L - 1].reshape(b, c * nL) @ self.lastBias + self.outputBias).reshape(b, co, nL))
        if self.signBias is not None:
            out_b[L - 2] = out_b[L - 2] + (col_w @ self.signBias).reshape(b, kk, co).permute(0, 2, 1)
        return out_w, out_b


class MonomialInvariantPool(nn.Module):
    def __init__(self, c, widths, kernels, kind="positiveScaling", eps=1e-24):
        super().__init__()
        L = len(kernels)
        f = [prod(k) for k in kernels]
        self.c, self.widths, self.kernels, self.kind, self.eps = c, widths, kernels, kind, eps
        self.weightScales = nn.ParameterList([nn.Parameter(torch.ones(c * fi)) for fi in f])
        self.weightShifts = nn.ParameterList([nn.Parameter(torch.zeros(c * fi)) for fi in f])
        self.biasScales = nn.ParameterList([nn.Parameter(torch.ones(c)) for _ in range(L - 1)])
        self.biasShifts = nn.ParameterList([nn.Parameter(torch.zeros(c)) for _ in range(L - 1)])

    def canon(self, x, scale, shift):
        c, f = x.shape[1], x.shape[3]
        if self.kind == "positiveScaling":
            hat = x / torch.sqrt(x.square().sum(dim=(1, 3), keepdim=True) + self.eps)
        else:
            hat = x.abs()
        return hat * scale.reshape(1, c, 1, f) + shift.reshape(1, c, 1, f)

    def forward(self, W, V):
        b, c = W[0].shape[0], self.c
        L = len(self.kernels)
        parts = []
        for i in range(L):
            f = prod(self.kernels[i])
            rows, cols = self.widths[i + 1], self.widths[i]
            w = self.canon(W[i].reshape(b, c, rows * cols, f), self.weightScales[i], self.weightShifts[i])
            w = w.reshape(b, c, rows, cols, f)
            if i == 0:
                parts.append(w.mean(dim=2).reshape(b, c, cols * f))
            elif i == L - 1:
                parts.append(w.mean(dim=3).reshape(b, c, rows * f))
            else:
                parts.append(w.mean(dim=(2, 3)).reshape(b, c, f))
            if i == L - 1:
                parts.append(V[i])
            else:
                v = self.canon(V[i].reshape(b, c, rows, 1), self.biasScales[i], self.biasShifts[i])
                parts.append(v.mean(dim=2).reshape(b, c, 1))
        return torch.cat(parts, 2).reshape(b, -1)


class MLPHead(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(widths[i], widths[i + 1]) for i in range(len(widths) - 1)])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


class MonomialPredictor(nn.Module):
    def __init__(self, widths, kernels, kind="positiveScaling", in_channels=1, hidden=(16, 16, 16),
                 head_width=200, head_hidden=2, outputs=1, activation=None):
        super().__init__()
        self.activation = activation or ("relu" if kind == "positiveScaling" else "tanh")
        chans = [in_channels] + list(hidden)
        self.layers = nn.ModuleList([MonomialLinear(chans[i], chans[i + 1], widths, kernels, kind) for i in range(len(hidden))])
        self.pool = MonomialInvariantPool(chans[-1], widths, kernels, kind)
        L = len(kernels)
        f = [prod(k) for k in kernels]
        k_per = widths[0] * f[0] + 1 + sum(f[i] + 1 for i in range(1, L - 1)) + widths[L] * f[L - 1] + widths[L]
        self.head = MLPHead([chans[-1] * k_per] + [head_width] * head_hidden + [outputs])

    def act(self, x):
        return {"relu": torch.relu, "tanh": torch.tanh, "sine": torch.sin}[self.activation](x)

    def forward(self, W, V):
        for layer in self.layers:
            W, V = layer(W, V)
            W, V = [self.act(w) for w in W], [self.act(v) for v in V]
        return self.head(self.pool(W, V))


def read_safetensors(path):
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
        data = fh.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(info["shape"])
    return out


def swift_path(name):
    # PyTorch "layers.0.hiddenWeights.0" == Swift path; nn.Linear "head.layers.0.weight" too.
    return name


def random_zoo_batch(batch, channels=1):
    W, V = [], []
    for i, k in enumerate(ZOO_KERNELS):
        W.append(torch.randn([batch, channels, ZOO_WIDTHS[i + 1], ZOO_WIDTHS[i]] + k))
        V.append(torch.randn(batch, channels, ZOO_WIDTHS[i + 1]))
    return W, V


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--kind", default="positiveScaling", choices=["positiveScaling", "sign"])
    ap.add_argument("--check", nargs=2, metavar=("PARAMS", "IO"), help="compare with a Swift model's output")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    if args.check:
        params, io = read_safetensors(args.check[0]), read_safetensors(args.check[1])
        model = MonomialPredictor(ZOO_WIDTHS, ZOO_KERNELS, kind=args.kind, hidden=(16, 16, 16))
        state = {name: params[swift_path(name)] for name, _ in model.named_parameters()}
        missing = set(params) - set(state)
        assert not missing, f"unused Swift parameters: {missing}"
        model.load_state_dict(state)
        L = len(ZOO_KERNELS)
        out = model([io[f"w{i}"] for i in range(L)], [io[f"b{i}"] for i in range(L)])
        ref = io["out"]
        dev = (out - ref).abs().max().item() / ref.abs().max().item()
        print(json.dumps({"max_relative_deviation": dev, "torch": out.flatten()[:4].tolist(), "swift": ref.flatten()[:4].tolist()}))
        return

    model = MonomialPredictor(ZOO_WIDTHS, ZOO_KERNELS, kind=args.kind, hidden=(16, 16, 16))
    W, V = random_zoo_batch(args.batch)

    def step():
        model.zero_grad(set_to_none=True)
        model(W, V).sum().backward()

    for _ in range(args.warmup):
        step()
    samples = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1e3)
    name = "monomial_predictor_fwd_bwd" + ("" if args.kind == "positiveScaling" else "_sign")
    print(json.dumps({name: {"median_ms": statistics.median(samples), "samples": samples}}))


if __name__ == "__main__":
    main()
