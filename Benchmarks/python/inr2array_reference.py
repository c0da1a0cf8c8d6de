"""PyTorch CPU reference for SwiftNFN's INR2ARRAY autoencoder (Metanetworks/INR2Array).

Zhou et al. 2023, "Neural Functional Transformers", Sec. 4: an S_NP-invariant encoder from SIREN
weights to an M x d latent array, and a hypernetwork decoder that maps each latent row to a small
SIREN rendering one patch of the image. Same math and parameter names (the Swift module paths) as
the Swift model, so a Swift parameter dump loads one to one:

  encoder.projection    Gaussian Fourier features [sin(2 pi B x), cos(2 pi B x)], B fixed, C/2 rows
  encoder.encoding      phi^(i) added to weight entries, psi^(i) to bias entries
  encoder.transformerBlocks.k   NFT block with one shared q/k/v map C -> 3C (dense weight space):
                        neuron term per neuron layer, layer term over the 2L mean tokens
  encoder.pooling       M learned queries, shared key/value map C -> 2d over every entry, 1/sqrt(d)
  decoder               theta = output(relu(hidden(z))) per latent row, split into the patch
                        SIREN's (W0, b0, W1, b1, ...), sin(w0 (x W^T + b)) hidden layers, linear
                        output, evaluated on the patch's own [-1, 1]^2 grid; all B*M SIRENs batched

Timing: forward + backward of the reconstruction MSE on 32 SIRENs 2-32-32-1 (28 x 28, M = 16,
standard size). Prints {case: {"median_ms": ..., "samples": [...]}}. `--check DUMP.json` instead
loads a Swift dump (parameters, Fourier frequencies, SIREN weights, latents, patches) and prints
the max relative deviation of the latents and of the patches; `--fixture DUMP OUT` writes the
PyTorch latents and patches for a dump (Tests/Fixtures/inr2array_parity.json, which
INR2ArrayParityTests compares with; regenerate with INR2ARRAY_PARITY_DUMP=DUMP swift test
--filter INR2ArrayParityTests, then this).
"""
import argparse
import json
import math
import statistics

import torch
import torch.nn.functional as F
from bench_timing import timed_samples


def lin(x, p, name):
    return F.linear(x, p[name + ".weight"], p.get(name + ".bias"))


def attend(q, k, v, scale):
    return torch.softmax(q @ k.transpose(-2, -1) * scale, dim=-1) @ v


def shared_self_attention(xw, xb, p, name, c, h):
    """xw[i]: [B, o, i, C], xb[i]: [B, o, C] (channels last)."""
    L, B, d = len(xw), xw[0].shape[0], c // h
    widths = [xw[0].shape[2]] + [w.shape[1] for w in xw]
    pw = [lin(w, p, name + ".sharedQKV") for w in xw]
    pb = [lin(b, p, name + ".sharedQKV") for b in xb]
    ow, ob = [0] * L, [0] * L
    for l in range(L + 1):
        n, toks, cols, rows = widths[l], [], 0, 0
        if l >= 1:
            cols = widths[l - 1]
            toks.append(pw[l - 1].reshape(B, n, cols, 3, h, d).permute(3, 0, 4, 2, 1, 5))
            toks.append(pb[l - 1].reshape(B, 1, n, 3, h, d).permute(3, 0, 4, 1, 2, 5))
        if l < L:
            rows = widths[l + 1]
            toks.append(pw[l].reshape(B, rows, n, 3, h, d).permute(3, 0, 4, 1, 2, 5))
        t = torch.cat(toks, dim=3)
        T = t.shape[3]
        qkv = t.reshape(3, B * h, T, n * d)
        o = attend(qkv[0], qkv[1], qkv[2], 1 / math.sqrt(n * d)).reshape(B, h, T, n, d)
        s = 0
        if l >= 1:
            ow[l - 1] = ow[l - 1] + o[:, :, :cols].permute(0, 3, 2, 1, 4).reshape(B, n, cols, c)
            ob[l - 1] = ob[l - 1] + o[:, :, cols].permute(0, 2, 1, 3).reshape(B, n, c)
            s = cols + 1
        if l < L:
            ow[l] = ow[l] + o[:, :, s:].permute(0, 2, 3, 1, 4).reshape(B, rows, n, c)
    means = torch.stack([w.mean(dim=(1, 2)) for w in pw] + [b.mean(dim=1) for b in pb], dim=1)  # [B, 2L, 3C]
    qkv = means.reshape(B, 2 * L, 3, h, d).permute(2, 0, 3, 1, 4).reshape(3, B * h, 2 * L, d)
    g = attend(qkv[0], qkv[1], qkv[2], 1 / math.sqrt(d)).reshape(B, h, 2 * L, d).permute(0, 2, 1, 3).reshape(B, 2 * L, c)
    return ([ow[i] + g[:, i].reshape(B, 1, 1, c) for i in range(L)],
            [ob[i] + g[:, L + i].reshape(B, 1, c) for i in range(L)])


def per_layer(xs, p, name, fn):
    return [fn(x, f"{name}.{i}") for i, x in enumerate(xs)]


def nft_block(xw, xb, p, name, c, h):
    def norm(xs, kind, nm):
        return [F.layer_norm(x, (c,), p[f"{nm}.{kind}.{i}.scale"], p[f"{nm}.{kind}.{i}.offset"], 1e-5) for i, x in enumerate(xs)]
    def mlp(xs, kind):
        return [lin(F.gelu(lin(x, p, f"{name}.mlp.{kind}In.{i}")), p, f"{name}.mlp.{kind}Out.{i}") for i, x in enumerate(xs)]
    aw, ab = shared_self_attention(norm(xw, "weightNorms", f"{name}.norm1"), norm(xb, "biasNorms", f"{name}.norm1"), p,
                                   f"{name}.attention", c, h)
    zw, zb = [x + a for x, a in zip(xw, aw)], [x + a for x, a in zip(xb, ab)]
    mw, mb = mlp(norm(zw, "weightNorms", f"{name}.norm2"), "weight"), mlp(norm(zb, "biasNorms", f"{name}.norm2"), "bias")
    return [z + m for z, m in zip(zw, mw)], [z + m for z, m in zip(zb, mb)]


def encode(p, freqs, weights, biases, c, h, blocks, m, d):
    """weights[i]: [B, 1, o, i], biases[i]: [B, 1, o] -> latents [B, M, d]."""
    def project(x):  # [B, 1, ...] -> channels last [..., C]
        z = 2 * math.pi * x.unsqueeze(-1) * freqs[:, 0]
        return torch.cat([torch.sin(z), torch.cos(z)], dim=-1).squeeze(1)
    xw = [project(w) + p[f"encoder.encoding.weightEncodings.{i}"] for i, w in enumerate(weights)]
    xb = [project(b) + p[f"encoder.encoding.biasEncodings.{i}"] for i, b in enumerate(biases)]
    for k in range(blocks):
        xw, xb = nft_block(xw, xb, p, f"encoder.transformerBlocks.{k}", c, h)
    B = xw[0].shape[0]
    toks = []
    for w, b in zip(xw, xb):
        toks += [w.reshape(B, -1, c), b]
    kv = lin(torch.cat(toks, dim=1), p, "encoder.pooling.sharedKeyValue")
    keys, values = kv[..., :d], kv[..., d:]
    a = torch.softmax(keys @ p["encoder.pooling.queries"].T / math.sqrt(d), dim=1)   # [B, N, M]
    return a.transpose(1, 2) @ values


def grid(height, width):
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    x = -1 + 2 * xs.float() / max(width - 1, 1)
    y = -1 + 2 * ys.float() / max(height - 1, 1)
    return torch.stack([x, y], dim=-1).reshape(-1, 2)


def decode(p, z, siren_widths, freq, patch):
    """z: [B, M, d] -> patches [B, M, ph*pw]."""
    B, M, _ = z.shape
    theta = lin(F.relu(lin(z.reshape(B * M, -1), p, "decoder.hidden")), p, "decoder.output")
    hcur = grid(*patch).expand(B * M, -1, -1)
    off = 0
    for i in range(len(siren_widths) - 1):
        fi, fo = siren_widths[i], siren_widths[i + 1]
        w = theta[:, off:off + fi * fo].reshape(B * M, fo, fi); off += fi * fo
        b = theta[:, off:off + fo].reshape(B * M, 1, fo); off += fo
        hcur = torch.bmm(hcur, w.transpose(1, 2)) + b
        if i < len(siren_widths) - 2:
            hcur = torch.sin(freq * hcur)
    return hcur.reshape(B, M, -1)


def render(weights, biases, height, width, freq=30.0):
    hcur = grid(height, width).expand(weights[0].shape[0], -1, -1)
    for i, (w, b) in enumerate(zip(weights, biases)):
        hcur = torch.bmm(hcur, w.squeeze(1).transpose(1, 2)) + b.squeeze(1).unsqueeze(1)
        if i < len(weights) - 1:
            hcur = torch.sin(freq * hcur)
    return hcur.reshape(-1, height, width)


def to_patches(img, g):
    B, H, W = img.shape
    return img.reshape(B, g, H // g, g, W // g).permute(0, 1, 3, 2, 4).reshape(B, g * g, -1)


STANDARD = dict(c=16, h=2, blocks=2, m=16, d=32, siren=[2, 16, 1], hyper=64, freq=30.0)


def init_params(cfg, zoo_widths=(2, 32, 32, 1)):
    c, d, L = cfg["c"], cfg["d"], len(zoo_widths) - 1
    shapes = {}
    def dense(name, i, o):
        shapes[name + ".weight"], shapes[name + ".bias"] = (o, i), (o,)
    for i in range(L):
        shapes[f"encoder.encoding.weightEncodings.{i}"] = (c,)
        shapes[f"encoder.encoding.biasEncodings.{i}"] = (c,)
    for k in range(cfg["blocks"]):
        nm = f"encoder.transformerBlocks.{k}"
        for norm in ("norm1", "norm2"):
            for kind in ("weightNorms", "biasNorms"):
                for i in range(L):
                    shapes[f"{nm}.{norm}.{kind}.{i}.scale"] = (c,)
                    shapes[f"{nm}.{norm}.{kind}.{i}.offset"] = (c,)
        dense(f"{nm}.attention.sharedQKV", c, 3 * c)
        for kind in ("weight", "bias"):
            for i in range(L):
                dense(f"{nm}.mlp.{kind}In.{i}", c, 2 * c)
                dense(f"{nm}.mlp.{kind}Out.{i}", 2 * c, c)
    shapes["encoder.pooling.queries"] = (cfg["m"], d)
    dense("encoder.pooling.sharedKeyValue", c, 2 * d)
    sw = cfg["siren"]
    n_siren = sum(sw[i] * sw[i + 1] + sw[i + 1] for i in range(len(sw) - 1))
    dense("decoder.hidden", d, cfg["hyper"])
    dense("decoder.output", cfg["hyper"], n_siren)
    return {k: (0.2 * torch.randn(*s)).requires_grad_() for k, s in shapes.items()}


def sirens(batch, widths=(2, 32, 32, 1)):
    ws, bs = [], []
    for i in range(len(widths) - 1):
        std = 0.5 if i == 0 else 0.05
        ws.append(std * torch.randn(batch, 1, widths[i + 1], widths[i]))
        bs.append(std * torch.randn(batch, 1, widths[i + 1]))
    return ws, bs


def reconstruction_loss(p, freqs, ws, bs, cfg, height=28, width=28):
    g = int(round(math.sqrt(cfg["m"])))
    target = to_patches(render(ws, bs, height, width), g)
    z = encode(p, freqs, ws, bs, cfg["c"], cfg["h"], cfg["blocks"], cfg["m"], cfg["d"])
    return F.mse_loss(decode(p, z, cfg["siren"], cfg["freq"], (height // g, width // g)), target)


def time_case(fn, params, repeats, warmup):
    def step():
        for t in params:
            t.grad = None
        fn().backward()
    return timed_samples(step, repeats, warmup)


def check(path):
    with open(path) as f:
        dump = json.load(f)
    t = lambda e: torch.tensor(e["values"], dtype=torch.float32).reshape(e["shape"])
    cfg = dump["configuration"]
    p = {k: t(v) for k, v in dump["params"].items()}
    ws, bs = [t(w) for w in dump["weights"]], [t(b) for b in dump["biases"]]
    z = encode(p, t(dump["frequencies"]), ws, bs, cfg["c"], cfg["h"], cfg["blocks"], cfg["m"], cfg["d"])
    patches = decode(p, t(dump["latents"]), cfg["siren"], cfg["freq"], tuple(cfg["patch"]))
    def dev(a, ref):
        return (a - ref).abs().max().item() / max(ref.abs().max().item(), 1e-6)
    print(json.dumps({"latents_max_rel_dev": dev(z, t(dump["latents"])),
                      "patches_max_rel_dev": dev(patches, t(dump["patches"]))}))


def fixture(dump_path, out_path):
    """Writes the PyTorch latents and patches for a Swift dump (the committed parity fixture)."""
    with open(dump_path) as f:
        dump = json.load(f)
    t = lambda e: torch.tensor(e["values"], dtype=torch.float32).reshape(e["shape"])
    cfg = dump["configuration"]
    p = {k: t(v) for k, v in dump["params"].items()}
    ws, bs = [t(w) for w in dump["weights"]], [t(b) for b in dump["biases"]]
    with torch.no_grad():
        z = encode(p, t(dump["frequencies"]), ws, bs, cfg["c"], cfg["h"], cfg["blocks"], cfg["m"], cfg["d"])
        patches = decode(p, z, cfg["siren"], cfg["freq"], tuple(cfg["patch"]))
    enc = lambda x: {"shape": list(x.shape), "values": [round(v, 7) for v in x.flatten().tolist()]}
    with open(out_path, "w") as f:
        json.dump({"source": "Benchmarks/python/inr2array_reference.py --fixture", "latents": enc(z), "patches": enc(patches)}, f)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--cases", default="inr2array_nft_reconstruction")
    ap.add_argument("--check", default=None, help="compare with a Swift dump (JSON) instead of timing")
    ap.add_argument("--fixture", nargs=2, default=None, metavar=("DUMP", "OUT"),
                    help="write the PyTorch outputs for a Swift dump (the committed parity fixture)")
    args = ap.parse_args()
    if args.fixture:
        fixture(*args.fixture)
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.check:
        check(args.check)
        return
    out = {}
    for case in args.cases.split(","):
        if case == "inr2array_nft_reconstruction":
            cfg = STANDARD
            p = init_params(cfg)
            freqs = 3 * torch.randn(cfg["c"] // 2, 1)
            ws, bs = sirens(args.batch)
            out[case] = time_case(lambda: reconstruction_loss(p, freqs, ws, bs, cfg), list(p.values()), args.repeats, args.warmup)
    print(json.dumps({k: {"median_ms": statistics.median(v), "samples": v} for k, v in out.items()}))


if __name__ == "__main__":
    main()
