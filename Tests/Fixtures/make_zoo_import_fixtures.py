#!/usr/bin/env python3
"""Regenerates Tests/ZooTests/ImportFixtures.swift: tiny Small-Transformer-Zoo-style checkpoints
written by real PyTorch, with the logits PyTorch computes for fixed inputs, embedded as base64 so
that the Swift tests need no Python.

The model is a small re-statement of the Small Transformer Zoo's vision transformer
(`vision_task/model.py` in Fsoft-AIC/Transformer-NFN; module names as in the
released zoo's state_dicts: embedding.conv1, embedding.pos_embedding, encoder.i.attention.{queries,
keys,values,out_projection}, encoder.i.fc1/fc2, classifier.fc1/fc2), shrunk to 8×8 images,
patch 4 (4 tokens), D = 8, 2 heads of 4, feed-forward 16, 2 blocks, 10 classes.

Also a NumPy `.npz` of three MLP checkpoints (4 → 3 → 2) stacked over rows under SwiftNFN's
parameter paths, the second with a NaN weight.

Run from the repository root with torch (2.x, CPU is enough) and numpy installed:
    python3 Tests/Fixtures/make_zoo_import_fixtures.py
"""
import base64
import io
import math
import os
import tempfile

import numpy as np
import torch
from torch import nn

torch.manual_seed(7)

C, S, P, D, H, FWD, BLOCKS, K = 1, 8, 4, 8, 2, 2, 2, 10


def sinusoid(tokens, d):
    pe = torch.zeros(tokens, d)
    position = torch.arange(tokens).unsqueeze(1).float()
    div = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div)
    return pe


class Embedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(C, D, kernel_size=P, stride=P)
        self.pos_embedding = nn.Parameter(sinusoid((S // P) ** 2, D), requires_grad=False)

    def forward(self, x):
        x = self.conv1(x)
        x = x.reshape(x.shape[0], D, -1).permute(0, 2, 1)
        return x + self.pos_embedding


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.e = D // H
        self.queries = nn.Linear(D, H * self.e, bias=False)
        self.keys = nn.Linear(D, H * self.e, bias=False)
        self.values = nn.Linear(D, H * self.e, bias=False)
        self.out_projection = nn.Linear(H * self.e, D, bias=False)

    def forward(self, x):
        b, s, _ = x.shape
        split = lambda t: t.reshape(b, s, H, self.e).permute(0, 2, 1, 3)
        q, k, v = split(self.queries(x)), split(self.keys(x)), split(self.values(x))
        a = torch.softmax(q @ k.transpose(-1, -2) / self.e ** 0.5, dim=-1)
        return self.out_projection((a @ v).permute(0, 2, 1, 3).reshape(b, s, D))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(D, elementwise_affine=False)
        self.attention = Attention()
        self.norm2 = nn.LayerNorm(D, elementwise_affine=False)
        self.fc1 = nn.Linear(D, D * FWD)
        self.fc2 = nn.Linear(D * FWD, D)

    def forward(self, x):  # no skip connections, as in the zoo
        x = self.attention(self.norm1(x))
        return self.fc2(torch.relu(self.fc1(self.norm2(x))))


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(D, D)
        self.fc2 = nn.Linear(D, K)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x.mean(dim=1))))


class VisionTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = Embedding()
        self.encoder = nn.ModuleList([Block() for _ in range(BLOCKS)])
        self.norm = nn.LayerNorm(D, elementwise_affine=False)
        self.classifier = Classifier()

    def forward(self, x):
        x = self.embedding(x)
        for block in self.encoder:
            x = block(x)
        return self.classifier(self.norm(x))


def saved(obj, name):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, name + ".pt")
        torch.save(obj, path)
        with open(path, "rb") as f:
            return f.read()


inputs = torch.randn(2, C, S, S)
fixtures = []   # (swift name, file name, bytes, logits or None)
for name in ["run1_75_5678", "run2_75_4321"]:
    model = VisionTransformer().eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.normal_(0, 0.5)
        logits = model(inputs)
    fixtures.append((name.split("_")[0] + "Epoch75", name + ".pt", saved(model.state_dict(), name), logits))
# A whole pickled module instead of a state_dict: its class is not on the allow-list.
fixtures.append(("pickledModule", "pickled_module.pt", saved(nn.Linear(1, 1), "module"), None))
# Stacked MLP weights under our paths; row 1 has a NaN.
rng = np.random.default_rng(3)
arrays = {
    "mlp.layers.0.weight": rng.normal(size=(3, 3, 4)).astype(np.float32),
    "mlp.layers.0.bias": rng.normal(size=(3, 3)).astype(np.float32),
    "mlp.layers.1.weight": rng.normal(size=(3, 2, 3)).astype(np.float32),
    "mlp.layers.1.bias": rng.normal(size=(3, 2)).astype(np.float32),
}
arrays["mlp.layers.1.bias"][1, 0] = np.nan
buffer = io.BytesIO()
np.savez(buffer, **arrays)
fixtures.append(("stackedMLP", "mlp.npz", buffer.getvalue(), None))


def floats(t):
    return ", ".join(repr(float(v)) for v in t.flatten().tolist())


lines = [
    "// Generated by Tests/Fixtures/make_zoo_import_fixtures.py with torch %s and numpy %s; do not edit." % (torch.__version__, np.__version__),
    "import Foundation",
    "",
    "/// Small Transformer Zoo-style checkpoints written by real PyTorch (8×8 images, patch 4, D = 8, 2 heads,",
    "/// FFN 16, 2 blocks, 10 classes), with PyTorch's logits for `inputs`.",
    "public enum ImportFixtures {",
    "    /// Inputs `[2, 1, 8, 8]`, row-major.",
    "    public static let inputs: [Float] = [%s]" % floats(inputs),
    "",
]
total = 0
for swift, file, data, logits in fixtures:
    total += len(data)
    encoded = base64.b64encode(data).decode()
    chunks = [encoded[i:i + 96] for i in range(0, len(encoded), 96)]
    lines.append("    /// `%s` (%d bytes)." % (file, len(data)))
    lines.append('    public static let %s = (file: "%s", bytes: Data(base64Encoded: [' % (swift, file))
    for chunk in chunks:
        lines.append('        "%s",' % chunk)
    lines.append('    ].joined())!)')
    if logits is not None:
        lines.append("    /// PyTorch's logits of `%s` for `inputs`, `[2, 10]`." % file)
        lines.append("    public static let %sLogits: [Float] = [%s]" % (swift, floats(logits)))
    lines.append("")
lines[-1] = "}"
assert total < 45000, total
with open("Tests/ZooTests/ImportFixtures.swift", "w") as f:
    f.write("\n".join(lines) + "\n")
for swift, file, data, _ in fixtures:
    print(file, len(data))
