"""PyTorch CPU reference for SwiftNFN's Neural Functional Transformer (Metanetworks/NFT).

Implements the same math as the Swift layers (Zhou et al. 2023, "Neural Functional Transformers",
Eqs. 4-11, with the layer-mean global term of its Sec. 3.1 as in the reference `NPAttention` of
AllanYangZhou/nfn), with the same parameter names (the Swift module paths), so a parameter dump
from Swift loads one to one:

  NFTInputProjection   Gaussian random Fourier features [sin(2 pi B x), cos(2 pi B x)], B fixed
  LayerEncoding        phi^(i) (per folded channel) added to weights, psi^(i) to biases
  NFTBlock             Z = U + SA(LN1(U)); out = Z + MLP(LN2(Z)); LN/MLP pointwise, per layer,
                       filter taps folded into channels (C * f_i)
  NFTSelfAttention     per-layer q/k/v projections (C f_i -> 3C; biases C -> 3C), neuron term
                       (attention over the columns of W(l), bias v(l), rows of W(l+1) for every
                       neuron layer l, token = (n_l x C/h) block, scale 1/sqrt(n_l C/h)), layer
                       term (attention over the 2L mean tokens, scale 1/sqrt(C/h)), unprojection
  CrossAttentionPooling M learned queries over all weight/bias entry keys/values, scale 1/sqrt(d)
  head                 Linear(M d, 64) -> ReLU -> Linear(64, outputs)

Timing: forward + backward of sum(outputs) on a batch of Small CNN Zoo weight sets
(3x conv 3x3 with 16 filters + dense 16 -> 10, one input channel). Prints one JSON object
{case: {"median_ms": ..., "samples": [...]}}. `--check DUMP.json` instead loads a Swift dump
(parameters, Fourier frequencies, inputs, outputs) and prints the max deviation.
"""
import argparse
import json
import math
import statistics

import torch
import torch.nn.functional as F
from bench_timing import timed_samples

ZOO_WIDTHS = [1, 16, 16, 16, 10]
ZOO_KERNELS = [(3, 3), (3, 3), (3, 3), ()]


def fold_weight(w):
    """[B, C, o, i, *taps] -> [B, o, i, C * f] (folded channel index c * f + tap)."""
    b, c, o, i = w.shape[:4]
    perm = [0, 2, 3, 1] + list(range(4, w.dim()))
    return w.permute(*perm).reshape(b, o, i, -1)


def linear(x, p, name):
    return F.linear(x, p[name + ".weight"], p[name + ".bias"])


def attention(q, k, v, scale):
    return torch.softmax(q @ k.transpose(-2, -1) * scale, dim=-1) @ v


def self_attention(p, name, xw, xb, channels, heads):
    L, B = len(xw), xw[0].shape[0]
    c, h, d = channels, heads, channels // heads
    widths = [xw[0].shape[2]] + [w.shape[1] for w in xw]
    pw = [linear(xw[i], p, f"{name}.weightQKV.{i}") for i in range(L)]  # [B, o, i, 3C]
    pb = [linear(xb[i], p, f"{name}.biasQKV.{i}") for i in range(L)]  # [B, o, 3C]
    out_w = [0] * L
    out_b = [0] * L
    # Neuron term.
    for l in range(L + 1):
        n = widths[l]
        parts, cols, rows = [], 0, 0
        if l >= 1:
            cols = widths[l - 1]
            parts.append(pw[l - 1].reshape(B, n, cols, 3, h, d).permute(3, 0, 4, 2, 1, 5))
            parts.append(pb[l - 1].reshape(B, 1, n, 3, h, d).permute(3, 0, 4, 1, 2, 5))
        if l < L:
            rows = widths[l + 1]
            parts.append(pw[l].reshape(B, rows, n, 3, h, d).permute(3, 0, 4, 1, 2, 5))
        tok = torch.cat(parts, dim=3)  # [3, B, h, T, n, d]
        t = tok.shape[3]
        qkv = tok.reshape(3, B * h, t, n * d)
        o = attention(qkv[0], qkv[1], qkv[2], 1 / math.sqrt(n * d)).reshape(B, h, t, n, d)
        start = 0
        if l >= 1:
            out_w[l - 1] = out_w[l - 1] + o[:, :, :cols].permute(0, 3, 2, 1, 4).reshape(B, n, cols, c)
            out_b[l - 1] = out_b[l - 1] + o[:, :, cols].permute(0, 2, 1, 3).reshape(B, n, c)
            start = cols + 1
        if l < L:
            out_w[l] = out_w[l] + o[:, :, start:].permute(0, 2, 3, 1, 4).reshape(B, rows, n, c)
    # Layer term.
    means = [w.mean(dim=(1, 2)) for w in pw] + [b.mean(dim=1) for b in pb]
    t = 2 * L
    qkv = torch.stack(means, dim=1).reshape(B, t, 3, h, d).permute(2, 0, 3, 1, 4).reshape(3, B * h, t, d)
    g = attention(qkv[0], qkv[1], qkv[2], 1 / math.sqrt(d)).reshape(B, h, t, d).permute(0, 2, 1, 3).reshape(B, t, c)
    for i in range(L):
        out_w[i] = out_w[i] + g[:, i].reshape(B, 1, 1, c)
        out_b[i] = out_b[i] + g[:, L + i].reshape(B, 1, c)
    out_w = [linear(out_w[i], p, f"{name}.unprojection.{i}") for i in range(L)]
    return out_w, out_b


def layer_norm(xw, xb, p, name):
    ow = [F.layer_norm(w, (w.shape[-1],), p[f"{name}.weightNorms.{i}.scale"], p[f"{name}.weightNorms.{i}.offset"], 1e-5)
          for i, w in enumerate(xw)]
    ob = [F.layer_norm(b, (b.shape[-1],), p[f"{name}.biasNorms.{i}.scale"], p[f"{name}.biasNorms.{i}.offset"], 1e-5)
          for i, b in enumerate(xb)]
    return ow, ob


def pointwise_mlp(xw, xb, p, name):
    ow = [linear(F.gelu(linear(w, p, f"{name}.weightIn.{i}")), p, f"{name}.weightOut.{i}") for i, w in enumerate(xw)]
    ob = [linear(F.gelu(linear(b, p, f"{name}.biasIn.{i}")), p, f"{name}.biasOut.{i}") for i, b in enumerate(xb)]
    return ow, ob


def block(xw, xb, p, name, channels, heads):
    aw, ab = self_attention(p, f"{name}.attention", *layer_norm(xw, xb, p, f"{name}.norm1"), channels, heads)
    zw = [x + a for x, a in zip(xw, aw)]
    zb = [x + a for x, a in zip(xb, ab)]
    mw, mb = pointwise_mlp(*layer_norm(zw, zb, p, f"{name}.norm2"), p, f"{name}.mlp")
    return [z + m for z, m in zip(zw, mw)], [z + m for z, m in zip(zb, mb)]


def cross_attention_pool(xw, xb, p, name, dim):
    B = xw[0].shape[0]
    toks = []
    for i, (w, b) in enumerate(zip(xw, xb)):
        toks.append(linear(w.reshape(B, -1, w.shape[-1]), p, f"{name}.weightKeyValue.{i}"))
        toks.append(linear(b, p, f"{name}.biasKeyValue.{i}"))
    kv = torch.cat(toks, dim=1)  # [B, N, 2d]
    keys, values = kv[..., :dim], kv[..., dim:]
    e = p[f"{name}.queries"]  # [M, d]
    a = torch.softmax(keys @ e.T / math.sqrt(dim), dim=1)  # [B, N, M]
    return (a.transpose(1, 2) @ values).reshape(B, -1)


def predictor(p, frequencies, weights, biases, channels, heads, blocks, pool_dim):
    """weights[i]: canonical [B, c_in, o, i, *taps]; biases[i]: [B, c_in, o]."""
    def project(x):
        z = 2 * math.pi * torch.einsum("mc,bc...->bm...", frequencies, x)
        return torch.cat([torch.sin(z), torch.cos(z)], dim=1)
    xw = [fold_weight(project(w)) for w in weights]
    xb = [project(b).permute(0, 2, 1) for b in biases]
    L = len(xw)
    xw = [w + p[f"encoding.weightEncodings.{i}"] for i, w in enumerate(xw)]
    xb = [b + p[f"encoding.biasEncodings.{i}"] for i, b in enumerate(xb)]
    for k in range(blocks):
        xw, xb = block(xw, xb, p, f"blocks.{k}", channels, heads)
    pooled = cross_attention_pool(xw, xb, p, "pooling", pool_dim)
    h = F.relu(linear(pooled, p, "head.layers.0"))
    return linear(h, p, "head.layers.1")


def init_params(channels=16, heads=2, blocks=2, mlp_factor=2, queries=4, pool_dim=16, head_hidden=64, outputs=1,
                filter_factors=(9, 9, 9, 1)):
    """Random parameters with the Swift model's names and shapes (values are irrelevant for timing)."""
    c, hid = channels, mlp_factor * channels
    shapes = {}
    def lin(name, i, o):
        shapes[name + ".weight"] = (o, i)
        shapes[name + ".bias"] = (o,)
    for i, f in enumerate(filter_factors):
        shapes[f"encoding.weightEncodings.{i}"] = (c * f,)
        shapes[f"encoding.biasEncodings.{i}"] = (c,)
    for k in range(blocks):
        for norm in ("norm1", "norm2"):
            for i, f in enumerate(filter_factors):
                shapes[f"blocks.{k}.{norm}.weightNorms.{i}.scale"] = (c * f,)
                shapes[f"blocks.{k}.{norm}.weightNorms.{i}.offset"] = (c * f,)
                shapes[f"blocks.{k}.{norm}.biasNorms.{i}.scale"] = (c,)
                shapes[f"blocks.{k}.{norm}.biasNorms.{i}.offset"] = (c,)
        for i, f in enumerate(filter_factors):
            lin(f"blocks.{k}.attention.weightQKV.{i}", c * f, 3 * c)
            lin(f"blocks.{k}.attention.biasQKV.{i}", c, 3 * c)
            lin(f"blocks.{k}.attention.unprojection.{i}", c, c * f)
            lin(f"blocks.{k}.mlp.weightIn.{i}", c * f, hid * f)
            lin(f"blocks.{k}.mlp.weightOut.{i}", hid * f, c * f)
            lin(f"blocks.{k}.mlp.biasIn.{i}", c, hid)
            lin(f"blocks.{k}.mlp.biasOut.{i}", hid, c)
    shapes["pooling.queries"] = (queries, pool_dim)
    for i, f in enumerate(filter_factors):
        lin(f"pooling.weightKeyValue.{i}", c * f, 2 * pool_dim)
        lin(f"pooling.biasKeyValue.{i}", c, 2 * pool_dim)
    lin("head.layers.0", queries * pool_dim, head_hidden)
    lin("head.layers.1", head_hidden, outputs)
    p = {k: (0.2 * torch.randn(*s)).requires_grad_() for k, s in shapes.items()}
    return p


def zoo_batch(batch, std=0.3):
    ws, bs = [], []
    for i in range(4):
        o, n = ZOO_WIDTHS[i + 1], ZOO_WIDTHS[i]
        ws.append(std * torch.randn(batch, 1, o, n, *ZOO_KERNELS[i]))
        bs.append(std * torch.randn(batch, 1, o))
    return ws, bs


def time_case(fn, params, repeats, warmup):
    def step():
        for t in params:
            t.grad = None
        fn().sum().backward()
    return timed_samples(step, repeats, warmup)


def check(path):
    with open(path) as f:
        dump = json.load(f)
    t = lambda e: torch.tensor(e["values"], dtype=torch.float32).reshape(e["shape"])
    p = {k: t(v) for k, v in dump["params"].items()}
    p = {k: (v.reshape(-1) if "Encodings" in k else v) for k, v in p.items()}
    out = predictor(p, t(dump["frequencies"]), [t(w) for w in dump["weights"]], [t(b) for b in dump["biases"]],
                    channels=16, heads=2, blocks=2, pool_dim=16)
    ref = t(dump["output"])
    dev = (out - ref).abs().max().item() / max(ref.abs().max().item(), 1e-6)
    print(json.dumps({"swift": ref.flatten().tolist(), "torch": out.flatten().tolist(), "max_rel_dev": dev}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--cases", default="nft_predictor_cnn_zoo")
    ap.add_argument("--check", default=None, help="compare with a Swift dump (JSON) instead of timing")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.check:
        check(args.check)
        return
    out = {}
    for case in args.cases.split(","):
        if case == "nft_predictor_cnn_zoo":
            p = init_params()
            freqs = 3 * torch.randn(8, 1)
            ws, bs = zoo_batch(args.batch)
            fn = lambda: predictor(p, freqs, ws, bs, channels=16, heads=2, blocks=2, pool_dim=16)
            out[case] = time_case(fn, list(p.values()), args.repeats, args.warmup)
        elif case.startswith("sa_width"):
            # NFTSelfAttention alone (C = 16, h = 2, per-layer projections with f = 1, batch 8)
            # on an MLP weight space of widths [n, n, n, n]: the O(L n^3 C) scaling.
            n = int(case[len("sa_width"):])
            c, batch, L = 16, 8, 3
            p = {}
            for i in range(L):
                for nm, (fi, fo) in {"weightQKV": (c, 3 * c), "biasQKV": (c, 3 * c), "unprojection": (c, c)}.items():
                    p[f"sa.{nm}.{i}.weight"] = (0.2 * torch.randn(fo, fi)).requires_grad_()
                    p[f"sa.{nm}.{i}.bias"] = torch.zeros(fo, requires_grad=True)
            xw = [torch.randn(batch, c, n, n) for _ in range(L)]  # canonical layout, as the Swift layer takes
            xb = [torch.randn(batch, c, n) for _ in range(L)]
            def fn():
                ow, ob = self_attention(p, "sa", [fold_weight(w) for w in xw], [b.permute(0, 2, 1) for b in xb], c, 2)
                return torch.cat([w.permute(0, 3, 1, 2).reshape(-1) for w in ow] + [b.permute(0, 2, 1).reshape(-1) for b in ob])
            out[case] = time_case(fn, list(p.values()), max(3, args.repeats // 4), args.warmup)
    print(json.dumps({k: {"median_ms": statistics.median(v), "samples": v} for k, v in out.items()}))


if __name__ == "__main__":
    main()
