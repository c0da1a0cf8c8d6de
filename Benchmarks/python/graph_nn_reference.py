"""PyTorch CPU reference for SwiftNFN's graph-network baseline (Sources/Metanetworks/GraphNN).

The model of Kofinas et al. 2024, "Graph Neural Networks for Learning Equivariant Representations of
Neural Networks" (ICLR 2024), in the simple edge-updating form SwiftNFN implements: neurons are
nodes (feature: the bias, 0 for inputs), weights are edges (feature: the weight's channels × filter
taps, zero padded to the widest layer), a learned position table (one row per input neuron, per
hidden layer, per output neuron), then per message-passing layer

    e' = e + W2 relu(We e + Ws h_src + Wt h_dst + b1) + b2
    m  = mean over incoming edges of e'          (0 for input neurons)
    h' = layer_norm(h + U2 relu(Uh h + Um m + c1) + c2)

and a readout [output nodes, mean of each hidden layer] -> MLP head. Written from the Swift code
and the paper (not from mkofinas/neural-graphs), with the same parameter names and layouts as the
Swift modules, so Swift parameters load here one to one and the dense, per-layer formulation is the
same on both sides.

Timing (default): forward + backward (sum of outputs) on a batch of random Small CNN Zoo weight
sets; prints one JSON object {case: {"median_ms": ..., "samples": [...], "parameters": ...}}.

Fixture: `--fixture PATH` writes a Swift source file with the parameters, inputs and outputs of a
small model on a tiny CNN weight space (Tests/MetanetworksTests/GraphNNParityFixture.swift).
"""
import argparse
import json
import math
import statistics

import torch
import torch.nn as nn
import torch.nn.functional as F
from bench_timing import timed_samples

SMALL_CNN_ZOO = {"widths": [1, 16, 16, 16, 10], "kernels": [[3, 3], [3, 3], [3, 3], []]}
# The parity fixture: two feature channels, 2x2 and 3x1 convolutions, a dense layer.
TINY_CNN = {"widths": [2, 3, 4, 3], "kernels": [[2, 2], [3, 1], []]}


def linear(i, o, bias=True):
    # nn.Linear's default initialisation is U(±1/sqrt(fan_in)) for weight and bias, as Swift's .lecunUniform.
    return nn.Linear(i, o, bias=bias)


class Encoding(nn.Module):
    def __init__(self, widths, channels, raw_edge, d):
        super().__init__()
        L = len(widths) - 1
        self.nodeInput = linear(channels, d)
        self.edgeInput = linear(raw_edge, d)
        self.positionEmbedding = nn.Parameter(torch.randn(widths[0] + (L - 1) + widths[L], d))
        rows = list(range(widths[0]))
        for l in range(1, L):
            rows += [widths[0] + l - 1] * widths[l]
        rows += list(range(widths[0] + L - 1, widths[0] + L - 1 + widths[L]))
        self.register_buffer("rows", torch.tensor(rows), persistent=False)
        self.raw_edge = raw_edge

    def forward(self, weights, biases):
        b, c = weights[0].shape[:2]
        nodes = [torch.zeros(b, weights[0].shape[3], c)] + [v.permute(0, 2, 1) for v in biases]
        edges = []
        for w in weights:
            e = w.permute(0, 2, 3, 1, *range(4, w.dim())).reshape(b, w.shape[2], w.shape[3], -1)
            edges.append(F.pad(e, (0, self.raw_edge - e.shape[-1])))
        widths = [n.shape[1] for n in nodes]
        h = self.nodeInput(torch.cat(nodes, dim=1)) + self.positionEmbedding[self.rows]
        return list(h.split(widths, dim=1)), [self.edgeInput(e) for e in edges]


class MessagePassing(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.edgeFromEdge = linear(d, d)
        self.edgeFromSource = linear(d, d, bias=False)
        self.edgeFromTarget = linear(d, d, bias=False)
        self.edgeOutput = linear(d, d)
        self.nodeFromNode = linear(d, d)
        self.nodeFromMessage = linear(d, d, bias=False)
        self.nodeOutput = linear(d, d)

    def forward(self, nodes, edges):
        widths = [n.shape[1] for n in nodes]
        h = torch.cat(nodes, dim=1)
        src = self.edgeFromSource(h).split(widths, dim=1)
        dst = self.edgeFromTarget(h).split(widths, dim=1)
        new_edges = []
        messages = [torch.zeros_like(nodes[0])]
        for l, e in enumerate(edges):
            pre = self.edgeFromEdge(e) + src[l].unsqueeze(1) + dst[l + 1].unsqueeze(2)
            e2 = e + self.edgeOutput(torch.relu(pre))
            new_edges.append(e2)
            messages.append(e2.mean(dim=2))
        m = torch.cat(messages, dim=1)
        hidden = torch.relu(self.nodeFromNode(h) + self.nodeFromMessage(m))
        h2 = F.layer_norm(h + self.nodeOutput(hidden), (h.shape[-1],), eps=1e-5)
        return list(h2.split(widths, dim=1)), new_edges


class Head(nn.Module):
    def __init__(self, i, hidden, o):
        super().__init__()
        dims = [i] + hidden + [o]
        self.layers = nn.ModuleList([linear(dims[k], dims[k + 1]) for k in range(len(dims) - 1)])

    def forward(self, x):
        for k, layer in enumerate(self.layers):
            x = layer(x)
            if k < len(self.layers) - 1:
                x = torch.relu(x)
        return x


class GraphNNPredictor(nn.Module):
    def __init__(self, spec, channels=1, d=32, layers=4, head=256, outputs=1):
        super().__init__()
        widths, kernels = spec["widths"], spec["kernels"]
        raw_edge = channels * max(math.prod(k) if k else 1 for k in kernels)
        self.encoding = Encoding(widths, channels, raw_edge, d)
        self.layers = nn.ModuleList([MessagePassing(d) for _ in range(layers)])
        L = len(kernels)
        self.head = Head((widths[L] + L - 1) * d, [head, head], outputs)

    def forward(self, weights, biases):
        nodes, edges = self.encoding(weights, biases)
        for layer in self.layers:
            nodes, edges = layer(nodes, edges)
        b, L = nodes[0].shape[0], len(edges)
        readout = [nodes[L].reshape(b, -1)] + [nodes[l].mean(dim=1) for l in range(1, L)]
        return self.head(torch.cat(readout, dim=1))


def random_features(batch, spec, gen, channels=1, std=(0.3, 0.1)):
    weights, biases = [], []
    widths, kernels = spec["widths"], spec["kernels"]
    for i, k in enumerate(kernels):
        weights.append(std[0] * torch.randn(batch, channels, widths[i + 1], widths[i], *k, generator=gen))
        biases.append(std[1] * torch.randn(batch, channels, widths[i + 1], generator=gen))
    return weights, biases


def time_fwd_bwd(model, weights, biases, repeats, warmup):
    def step():
        model.zero_grad(set_to_none=True)
        model(weights, biases).sum().backward()

    return timed_samples(step, repeats, warmup)


def swift_floats(values):
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def write_fixture(path):
    torch.manual_seed(3)
    gen = torch.Generator().manual_seed(4)
    config = {"channels": 2, "d": 4, "layers": 2, "head": 5, "outputs": 2}
    model = GraphNNPredictor(TINY_CNN, channels=2, d=4, layers=2, head=5, outputs=2)
    with torch.no_grad():
        for p in model.parameters():   # move biases and weights off their init so every term shows
            p.add_(0.1 * torch.randn(p.shape, generator=gen))
        weights, biases = random_features(2, TINY_CNN, gen, channels=2, std=(0.5, 0.5))
        out = model(weights, biases)
    lines = [
        f"// Generated by Benchmarks/python/graph_nn_reference.py --fixture with torch {torch.__version__}; do not edit.",
        "",
        "/// A PyTorch GraphNNPredictor on the tiny CNN weight space (widths [2, 3, 4, 3], kernels 2×2, 3×1, dense;",
        f"/// {config['channels']} feature channels, d = {config['d']}, {config['layers']} layers, head {config['head']}, "
        f"{config['outputs']} outputs): its parameters, a batch of 2 inputs and its outputs.",
        "enum GraphNNParityFixture {",
        "    static let parameters: [String: (shape: [Int], values: [Float])] = [",
    ]
    for name, p in model.named_parameters():
        lines.append(f'        "{name}": ({list(p.shape)}, {swift_floats(p.detach().flatten().tolist())}),')
    lines.append("    ]")
    for kind, tensors in (("weights", weights), ("biases", biases)):
        lines.append(f"    static let {kind}: [(shape: [Int], values: [Float])] = [")
        for t in tensors:
            lines.append(f"        ({list(t.shape)}, {swift_floats(t.flatten().tolist())}),")
        lines.append("    ]")
    lines.append(f"    static let outputs: (shape: [Int], values: [Float]) = ({list(out.shape)}, {swift_floats(out.flatten().tolist())})")
    lines.append("}")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--dimension", type=int, default=32)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--head", type=int, default=256)
    ap.add_argument("--cases", default="graph_nn_small_cnn_zoo_fwd_bwd")
    ap.add_argument("--fixture", default=None, help="write the Swift parity fixture to this path")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.fixture:
        write_fixture(args.fixture)
        return
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    weights, biases = random_features(args.batch, SMALL_CNN_ZOO, gen)
    out = {}
    for case in args.cases.split(","):
        model = GraphNNPredictor(SMALL_CNN_ZOO, d=args.dimension, layers=args.layers, head=args.head)
        samples = time_fwd_bwd(model, weights, biases, args.repeats, args.warmup)
        out[case] = {"median_ms": statistics.median(samples), "samples": samples,
                     "parameters": sum(p.numel() for p in model.parameters())}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
