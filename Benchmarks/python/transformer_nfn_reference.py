"""PyTorch reference for SwiftNFN's Transformer-NFN (Tran et al. 2025, "Equivariant Neural
Functional Networks for Transformers", App. I; reference code Fsoft-AIC/Transformer-NFN,
`TransformersLinear` and `TransformersInv`).

The same model as `TransformerNFNPredictor` (Sources/Metanetworks/TransformerNFN), written
independently in PyTorch and holding the SAME fused parameter tensors (names and shapes identical
to the Swift module's parameter paths), with two forward formulations:

* ``einsum``: every term of the equivariant layer (as listed in `TransformerNFNLinear`'s
  documentation) as its own einsum over a slice of the fused tensors (the
  reference code's `TransformersLinear` style: one `EinsumLayer` per term);
* ``fused``: the GEMM grouping SwiftNFN uses (global / per-feature / per-hidden-unit / pointwise).

CLI: ``--threads N --repeats N --batch 32 [--channels 10] [--formulation both]`` prints one JSON
object ``{case: {"median_ms": ..., "samples": [...]}}`` timing forward + backward
(``output.sum().backward()``) of the predictor on a batch of Small Transformer Zoo weight sets
(D = 32, h = 2, D_k = D_v = 16, D_A = 64, 2 blocks, patch embedding 544, classifier 1386).

``--check FILE.safetensors`` instead loads parameters, inputs, output and gradients exported from
Swift and reports the largest relative differences of both formulations.
"""
import argparse
import json
import statistics
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

NAMES = ["query", "key", "value", "output", "feedForwardInWeight", "feedForwardInBias",
         "feedForwardOutWeight", "feedForwardOutBias"]


def glorot(shape, std):
    return nn.Parameter(torch.randn(shape) * std)


class TransformerNFNLinear(nn.Module):
    """One block, c -> e channels. Parameters as in Swift (see TransformerNFNLinear.swift)."""

    def __init__(self, c, e, D):
        super().__init__()
        self.c, self.e, self.D = c, e, D
        G = D * D + 3 * D + 2
        s = 0.02
        self.queryMap = glorot((e * D, c * D), s)
        self.keyMap = glorot((e * D, c * D), s)
        self.valueMap = glorot((e * D, c * D), s)
        self.outputRowSumMap = glorot((e, c), s)
        self.outputPointwiseMap = glorot((e, c), s)
        self.globalMap = glorot((e * (2 + 2 * D), c * G), 1e-3)
        self.globalBias = nn.Parameter(torch.zeros(e * (2 + 2 * D)))
        self.featureMap = glorot((e, c * (D + 1)), s)
        self.hiddenUnitMap = glorot((e * (2 + D), c * (D + 2)), s)
        self.pointwiseMap = glorot((e, c), s)

    # ---- per-term view of the fused tensors (reference naming) -------------------------------
    def terms(self):
        c, e, D = self.c, self.e, self.D
        G = D * D + 3 * D + 2
        gm = self.globalMap.view(e, 2 + 2 * D, c, G)
        gb = self.globalBias.view(e, 2 + 2 * D)
        S = slice(0, D * D)
        t = slice(D * D, D * D + D)
        A_all = D * D + D
        B_col = slice(D * D + D + 1, D * D + 2 * D + 1)
        a_all = D * D + 2 * D + 1
        beta = slice(D * D + 2 * D + 2, G)
        fm = self.featureMap.view(e, c, D + 1)
        hm = self.hiddenUnitMap.view(e, 2 + D, c, D + 2)
        T = {}
        T["W_Q"] = self.queryMap.view(e, D, c, D).permute(0, 2, 1, 3)   # [e, c, j, p]
        T["W_K"] = self.keyMap.view(e, D, c, D).permute(0, 2, 1, 3)
        T["W_V"] = self.valueMap.view(e, D, c, D).permute(0, 2, 1, 3)
        T["W_O_1"], T["W_O_2"] = self.outputRowSumMap, self.outputPointwiseMap
        for name, slot in (("W_A", 0), ("b_A", 1)):
            T[name + "_QK"] = gm[:, slot, :, S].reshape(e, c, D, D)
            T[name + "_VO"] = gm[:, slot, :, t]
            T[name + "_A1"] = gm[:, slot, :, A_all]
            T[name + "_B1"] = gm[:, slot, :, B_col]
            T[name + "_bA1"] = gm[:, slot, :, a_all]
            T[name + "_bB"] = gm[:, slot, :, beta]
            T[name + "_bias"] = gb[:, slot]
            T[name + "_Acol"] = hm[:, slot, :, 0]
            T[name + "_B2"] = hm[:, slot, :, 1:D + 1]
            T[name + "_bA2"] = hm[:, slot, :, D + 1]
        T["W_A_VO2"] = fm[:, :, :D]
        T["W_A_Arow"] = fm[:, :, D]
        T["W_A_A4"] = self.pointwiseMap
        for name, lo in (("W_B", 2), ("b_B", 2 + D)):
            g = gm[:, lo:lo + D]                       # [e, k, c, G]
            T[name + "_QK"] = g[..., S].reshape(e, D, c, D, D).permute(0, 2, 1, 3, 4)   # [e, c, k, p, q]
            T[name + "_VO"] = g[..., t].permute(0, 2, 1, 3)                                # [e, c, k, p]
            T[name + "_A1"] = g[..., A_all].permute(0, 2, 1)                               # [e, c, k]
            T[name + "_B1"] = g[..., B_col].permute(0, 2, 1, 3)                            # [e, c, k, q]
            T[name + "_bA1"] = g[..., a_all].permute(0, 2, 1)
            T[name + "_bB"] = g[..., beta].permute(0, 2, 1, 3)
            T[name + "_bias"] = gb[:, lo:lo + D]
        hB = hm[:, 2:]                                 # [e, k, c, D+2]
        T["W_B_A2"] = hB[..., 0].permute(0, 2, 1)      # [e, c, k]
        T["W_B_B2"] = hB[..., 1:D + 1].permute(0, 2, 1, 3)   # [e, c, k, q]
        T["W_B_bA2"] = hB[..., D + 1].permute(0, 2, 1)
        return T

    # ---- formulation 1: one einsum per term, as the reference code -----------------------------
    def forward_einsum(self, Q, K, V, O, WA, bA, WB, bB):
        T = self.terms()
        ein = torch.einsum
        QK = ein("bdhpk,bdhqk->bdhpq", Q, K)
        VO = ein("bdhpk,bdhkq->bdhpq", V, O)
        q = ein("bdhpk,edjp->behjk", Q, T["W_Q"])
        k = ein("bdhpk,edjp->behjk", K, T["W_K"])
        v = ein("bdhpk,edjp->behjk", V, T["W_V"])
        o = ein("bdhjk,ed->behj", O, T["W_O_1"]).unsqueeze(-1) + ein("bdhjk,ed->behjk", O, T["W_O_2"])
        s2 = lambda x: x[:, :, None, None]
        wa = (s2(ein("bdhpq,edpq->be", QK, T["W_A_QK"])) + s2(ein("bdhpq,edp->be", VO, T["W_A_VO"]))
              + ein("bdhpj,edp->bej", VO, T["W_A_VO2"])[..., None]
              + s2(ein("bdpq,ed->be", WA, T["W_A_A1"])) + ein("bdjq,ed->bej", WA, T["W_A_Arow"])[..., None]
              + ein("bdpk,ed->bek", WA, T["W_A_Acol"])[:, :, None] + ein("bdjk,ed->bejk", WA, T["W_A_A4"])
              + s2(ein("bdpq,edq->be", WB, T["W_A_B1"])) + ein("bdkq,edq->bek", WB, T["W_A_B2"])[:, :, None]
              + s2(ein("bdq,ed->be", bA, T["W_A_bA1"])) + ein("bdk,ed->bek", bA, T["W_A_bA2"])[:, :, None]
              + s2(ein("bdq,edq->be", bB, T["W_A_bB"])) + T["W_A_bias"][None, :, None, None])
        s1 = lambda x: x[:, :, None]
        ba = (s1(ein("bdhpq,edpq->be", QK, T["b_A_QK"])) + s1(ein("bdhpq,edp->be", VO, T["b_A_VO"]))
              + s1(ein("bdpq,ed->be", WA, T["b_A_A1"])) + ein("bdpk,ed->bek", WA, T["b_A_Acol"])
              + s1(ein("bdpq,edq->be", WB, T["b_A_B1"])) + ein("bdkq,edq->bek", WB, T["b_A_B2"])
              + s1(ein("bdq,ed->be", bA, T["b_A_bA1"])) + ein("bdk,ed->bek", bA, T["b_A_bA2"])
              + s1(ein("bdq,edq->be", bB, T["b_A_bB"])) + T["b_A_bias"][None, :, None])
        u = lambda x: x[:, :, None, :]
        wb = (u(ein("bdhpq,edkpq->bek", QK, T["W_B_QK"])) + u(ein("bdhpq,edkp->bek", VO, T["W_B_VO"]))
              + u(ein("bdpq,edk->bek", WA, T["W_B_A1"])) + ein("bdpj,edk->bejk", WA, T["W_B_A2"])
              + u(ein("bdpq,edkq->bek", WB, T["W_B_B1"])) + ein("bdjq,edkq->bejk", WB, T["W_B_B2"])
              + u(ein("bdq,edk->bek", bA, T["W_B_bA1"])) + ein("bdj,edk->bejk", bA, T["W_B_bA2"])
              + u(ein("bdq,edkq->bek", bB, T["W_B_bB"])) + T["W_B_bias"][None, :, None, :])
        bb = (ein("bdhpq,edkpq->bek", QK, T["b_B_QK"]) + ein("bdhpq,edkp->bek", VO, T["b_B_VO"])
              + ein("bdpq,edk->bek", WA, T["b_B_A1"]) + ein("bdpq,edkq->bek", WB, T["b_B_B1"])
              + ein("bdq,edk->bek", bA, T["b_B_bA1"]) + ein("bdq,edkq->bek", bB, T["b_B_bB"])
              + T["b_B_bias"][None])
        return q, k, v, o, wa, ba, wb, bb

    # ---- formulation 2: SwiftNFN's GEMM grouping -------------------------------------------------
    def forward_fused(self, Q, K, V, O, WA, bA, WB, bB):
        b, c, h, D, dk = Q.shape
        dv, da, e = V.shape[-1], WA.shape[-1], self.e
        qc = Q.permute(0, 1, 3, 2, 4).reshape(b, c, D, h * dk)
        kc = K.permute(0, 1, 3, 2, 4).reshape(b, c, D, h * dk)
        vc = V.permute(0, 1, 3, 2, 4).reshape(b, c, D, h * dv)
        S = qc @ kc.transpose(-1, -2)
        T = vc @ O.reshape(b, c, h * dv, D)

        def left(x, W, w):
            return (W @ x.reshape(b, c * D, h * w)).view(b, e, D, h, w).permute(0, 1, 3, 2, 4)
        q, k, v = left(qc, self.queryMap, dk), left(kc, self.keyMap, dk), left(vc, self.valueMap, dv)
        o = (self.outputPointwiseMap @ O.reshape(b, c, -1)).view(b, e, h, dv, D) \
            + (self.outputRowSumMap @ O.sum(-1).reshape(b, c, -1)).view(b, e, h, dv, 1)
        g = torch.cat([S.reshape(b, c, D * D), T.sum(-1), WA.sum((2, 3))[..., None], WB.sum(2),
                       bA.sum(2)[..., None], bB], dim=2).reshape(b, -1)
        gl = (g @ self.globalMap.t() + self.globalBias).view(b, e, 2 + 2 * D)
        feat = torch.cat([T, WA.sum(3)[:, :, None]], dim=2).reshape(b, c * (D + 1), D)
        row = (self.featureMap @ feat).view(b, e, D, 1)
        unit_in = torch.cat([WA.sum(2)[:, :, None], WB.transpose(-1, -2), bA[:, :, None]], dim=2).reshape(b, -1, da)
        unit = (self.hiddenUnitMap @ unit_in).view(b, e, 2 + D, da)
        point = (self.pointwiseMap @ WA.reshape(b, c, -1)).view(b, e, D, da)
        wa = point + row + unit[:, :, 0:1] + gl[:, :, 0, None, None]
        ba = unit[:, :, 1] + gl[:, :, 1:2]
        wb = unit[:, :, 2:].transpose(-1, -2) + gl[:, :, None, 2:2 + D]
        bb = gl[:, :, 2 + D:]
        return q, k, v, o, wa, ba, wb, bb


class TransformerNFNInvariant(nn.Module):
    def __init__(self, c, e, D):
        super().__init__()
        self.c, self.e, self.D = c, e, D
        G = D * D + 3 * D + 2
        self.weight = glorot((e, c * G), 1e-3)
        self.bias = nn.Parameter(torch.zeros(e))
        self.norm = nn.LayerNorm(e)

    def forward(self, Q, K, V, O, WA, bA, WB, bB, formulation):
        c, e, D = self.c, self.e, self.D
        if formulation == "einsum":
            w = self.weight.view(e, c, -1)
            QK = torch.einsum("bdhpk,bdhqk->bdhpq", Q, K)
            VO = torch.einsum("bdhpk,bdhkq->bdhpq", V, O)
            y = (torch.einsum("bdhpq,edpq->be", QK, w[..., :D * D].reshape(e, c, D, D))
                 + torch.einsum("bdhpq,edp->be", VO, w[..., D * D:D * D + D])
                 + torch.einsum("bdpq,ed->be", WA, w[..., D * D + D])
                 + torch.einsum("bdpq,edq->be", WB, w[..., D * D + D + 1:D * D + 2 * D + 1])
                 + torch.einsum("bdq,ed->be", bA, w[..., D * D + 2 * D + 1])
                 + torch.einsum("bdq,edq->be", bB, w[..., D * D + 2 * D + 2:]) + self.bias)
        else:
            b, _, h, _, dk = Q.shape
            dv = V.shape[-1]
            S = Q.permute(0, 1, 3, 2, 4).reshape(b, c, D, h * dk) @ K.permute(0, 1, 3, 2, 4).reshape(b, c, D, h * dk).transpose(-1, -2)
            T = V.permute(0, 1, 3, 2, 4).reshape(b, c, D, h * dv) @ O.reshape(b, c, h * dv, D)
            g = torch.cat([S.reshape(b, c, D * D), T.sum(-1), WA.sum((2, 3))[..., None], WB.sum(2),
                           bA.sum(2)[..., None], bB], dim=2).reshape(b, -1)
            y = g @ self.weight.t() + self.bias
        return self.norm(y)


class TransformerNFNPredictor(nn.Module):
    def __init__(self, channels=(10,), D=32, blocks=2, emb=544, cls=1386, enc_hidden=10, enc_out=5,
                 emb_out=10, cls_hidden=(10, 10), cls_out=10, outputs=1, sigmoid=True, in_channels=1):
        super().__init__()
        self.L, self.nlayers, self.sigmoid = blocks, len(channels), sigmoid
        layers, c = [], in_channels
        for e in channels:
            layers += [TransformerNFNLinear(c, e, D) for _ in range(blocks)]
            c = e
        self.equivariantLayers = nn.ModuleList(layers)
        self.invariantLayers = nn.ModuleList([TransformerNFNInvariant(c, c, D) for _ in range(blocks)])
        self.encoderNorm = nn.LayerNorm(c * blocks)
        self.encoderLayers = nn.ModuleList([nn.Linear(c * blocks, enc_hidden), nn.Linear(enc_hidden, enc_hidden),
                                            nn.Linear(enc_hidden, enc_out)])
        self.encoderLayerNorms = nn.ModuleList([nn.LayerNorm(enc_hidden), nn.LayerNorm(enc_hidden)])
        self.embeddingLayer = nn.Linear(emb * in_channels, emb_out)
        widths = [cls * in_channels, *cls_hidden, cls_out]
        self.classifierLayers = nn.ModuleList([nn.Linear(widths[i], widths[i + 1]) for i in range(len(widths) - 1)])
        self.finalLayer = nn.Linear(enc_out + cls_out + emb_out, outputs)

    def forward(self, blocks, embedding, classifier, formulation="fused"):
        for l in range(self.nlayers):
            new = []
            for i, blk in enumerate(blocks):
                layer = self.equivariantLayers[l * self.L + i]
                y = layer.forward_einsum(*blk) if formulation == "einsum" else layer.forward_fused(*blk)
                new.append(tuple(y[:4]) + tuple(F.relu(x) for x in y[4:]))
            blocks = new
        enc = self.encoderNorm(torch.cat([inv(*blk, formulation) for inv, blk in zip(self.invariantLayers, blocks)], 1))
        enc = self.encoderLayers[0](enc)
        for i in range(2):
            enc = self.encoderLayers[i + 1](F.relu(self.encoderLayerNorms[i](enc)))
        x = classifier
        for layer in self.classifierLayers:
            x = F.relu(layer(x))
        y = self.finalLayer(torch.cat([enc, x, self.embeddingLayer(embedding)], 1))
        return torch.sigmoid(y) if self.sigmoid else y


def swift_to_torch_name(path):
    """`equivariantLayers.0.globalMap` etc. map 1:1; Swift's Dense/LayerNorm name their tensors
    weight/bias and scale/offset."""
    return path.replace(".scale", ".weight").replace(".offset", ".bias").replace("readout.", "")


def random_inputs(batch, D=32, h=2, dk=16, dv=16, da=64, blocks=2, std=0.3):
    bl = []
    for _ in range(blocks):
        bl.append((torch.randn(batch, 1, h, D, dk) * std, torch.randn(batch, 1, h, D, dk) * std,
                   torch.randn(batch, 1, h, D, dv) * std, torch.randn(batch, 1, h, dv, D) * std,
                   torch.randn(batch, 1, D, da) * std, torch.randn(batch, 1, da) * std,
                   torch.randn(batch, 1, da, D) * std, torch.randn(batch, 1, D) * std))
    return bl, torch.randn(batch, 544) * std, torch.randn(batch, 1386) * std


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=np.float32).copy()).reshape(info["shape"])
    return out


def check(path, channels):
    t = read_safetensors(path)
    model = TransformerNFNPredictor(channels=channels, sigmoid=False, outputs=t["out.prediction"].shape[1])
    state = {swift_to_torch_name(k[len("param."):]): v for k, v in t.items() if k.startswith("param.")}
    missing = set(model.state_dict()) - set(state)
    assert not missing, f"missing {sorted(missing)}"
    model.load_state_dict(state)
    L = 2
    blocks = [tuple(t[f"in.blocks.{i}.{n}"] for n in NAMES) for i in range(L)]
    emb, cls = t["in.embedding"], t["in.classifier"]
    report = {}
    for form in ("einsum", "fused"):
        model.zero_grad()
        y = model(blocks, emb, cls, form)
        y.sum().backward()
        ref = t["out.prediction"]
        rel = ((y - ref).abs().max() / ref.abs().max()).item()
        grads = {}
        for k, v in t.items():
            if k.startswith("grad."):
                p = dict(model.named_parameters())[swift_to_torch_name(k[len("grad."):])]
                grads[k] = ((p.grad - v).abs().max() / v.abs().max().clamp_min(1e-12)).item()
        report[form] = {"output_rel_diff": rel, "max_grad_rel_diff": max(grads.values()),
                        "worst_grad": max(grads, key=grads.get)}
    print(json.dumps(report, indent=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--channels", default="10", help="comma-separated hidden channels, e.g. 10 or 10,10")
    ap.add_argument("--formulation", default="both", choices=["einsum", "fused", "both"])
    ap.add_argument("--check", default=None, help="safetensors file exported from Swift")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    channels = tuple(int(c) for c in args.channels.split(","))
    if args.check:
        check(args.check, channels)
        return
    torch.manual_seed(0)
    model = TransformerNFNPredictor(channels=channels)
    blocks, emb, cls = random_inputs(args.batch)
    out = {}
    forms = ["einsum", "fused"] if args.formulation == "both" else [args.formulation]
    for form in forms:
        def step():
            model.zero_grad(set_to_none=True)
            model(blocks, emb, cls, form).sum().backward()
        for _ in range(args.warmup):
            step()
        samples = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            step()
            samples.append((time.perf_counter() - t0) * 1e3)
        name = f"transformer_nfn_predictor_c{'-'.join(map(str, channels))}_b{args.batch}_{form}"
        out[name] = {"median_ms": statistics.median(samples), "samples": samples}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
