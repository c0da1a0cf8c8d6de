#!/usr/bin/env python3
"""Regenerates Tests/TensorIOTests/Fixtures.swift: small files written by real PyTorch and NumPy,
embedded as base64 so that the Swift tests need neither.

Run from the repository root with torch (2.x, CPU is enough) and numpy installed:
    python3 Tests/Fixtures/make_tensorio_fixtures.py
The tests assert the values set here; change both together.
"""
import base64
import io
import os
import tempfile

import numpy as np
import torch

fixtures = []  # (swift name, comment, bytes)


def torch_bytes(obj, name, **kwargs):
    # torch names the archive's top-level folder after the file (`name/data.pkl`).
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, name + ".pt")
        torch.save(obj, path, **kwargs)
        with open(path, "rb") as f:
            return f.read()


# 1. A Linear(3, 2) state_dict with hand-set values.
linear = torch.nn.Linear(3, 2)
with torch.no_grad():
    linear.weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1)  # [[-1,-0.5,0],[0.5,1,1.5]]
    linear.bias.copy_(torch.tensor([0.25, -0.75]))
fixtures.append(("linearStateDict", "torch.save(nn.Linear(3, 2).state_dict()): weight [[-1,-0.5,0],[0.5,1,1.5]], bias [0.25,-0.75]",
                 torch_bytes(linear.state_dict(), "linear")))

# 2. Views on one shared storage: a transpose, an offset slice, a strided column.
base = torch.arange(12, dtype=torch.float32).reshape(3, 4)  # storage 0..11
views = {"base": base, "t": base.t(), "row": base[1, 1:], "col": base[:, 2], "block": base[1:, ::2]}
fixtures.append(("sharedStorageViews",
                 "base = arange(12).reshape(3, 4); {base, t: base.t(), row: base[1, 1:], col: base[:, 2], block: base[1:, ::2]}",
                 torch_bytes(views, "views")))

# 3. float16 and int64 (plus a 0-d and an empty tensor).
halflong = {
    "h": torch.tensor([1.5, -2.0, 65504.0, 2.0 ** -24], dtype=torch.float16),
    "l": torch.tensor([[1, -2], [3, 2 ** 40]], dtype=torch.int64),
    "z": torch.tensor(3.25),
    "e": torch.zeros(0, 4),
}
fixtures.append(("halfAndLong", "h f16 [1.5,-2,65504,2^-24], l i64 [[1,-2],[3,2^40]], z 0-d 3.25, e f32 [0,4]",
                 torch_bytes(halflong, "halflong")))

# 4. The other storage types, a uint16 tensor (torch 2 writes _rebuild_tensor_v3 + UntypedStorage)
#    and an nn.Parameter (_rebuild_parameter).
more = {
    "bf": torch.tensor([1.0, -0.5], dtype=torch.bfloat16),
    "b": torch.tensor([True, False, True]),
    "d": torch.tensor([0.1], dtype=torch.float64),
    "i": torch.tensor([7, -8], dtype=torch.int32),
    "u8": torch.tensor([200], dtype=torch.uint8),
    "i8": torch.tensor([-3], dtype=torch.int8),
    "i16": torch.tensor([-300], dtype=torch.int16),
    "u16": torch.tensor([1, 65535], dtype=torch.uint16),
    "p": torch.nn.Parameter(torch.tensor([2.0, 4.0])),
}
fixtures.append(("otherDTypes", "bf16, bool, f64, i32, u8, i8, i16, u16 (v3), Parameter", torch_bytes(more, "more")))

# 5. A nested training checkpoint.
model = torch.nn.Linear(2, 1)
with torch.no_grad():
    model.weight.copy_(torch.tensor([[0.5, -1.5]]))
    model.bias.copy_(torch.tensor([2.0]))
nested = {
    "model": model.state_dict(),
    "epoch": 3,
    "lr": 0.01,
    "name": "run-7",
    "best": True,
    "history": [0.5, 0.25],
    "big": 2 ** 40,
    "neg": -300000,
    "note": None,
    "opt": {"state": {}, "param_groups": [{"lr": 0.01, "params": [0, 1]}]},
}
fixtures.append(("nestedCheckpoint",
                 "{model: Linear(2,1) state_dict (w [[0.5,-1.5]], b [2]), epoch 3, lr 0.01, name 'run-7', best True, "
                 "history [0.5, 0.25], big 2^40, neg -300000, note None, opt {state {}, param_groups [{lr 0.01, params [0, 1]}]}}",
                 torch_bytes(nested, "nested")))

# 6. Protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL).
fixtures.append(("protocol4", "torch.save({'w': tensor([1., 2.])}, pickle_protocol=4)",
                 torch_bytes({"w": torch.tensor([1.0, 2.0])}, "p4", pickle_protocol=4)))

# 7. The legacy (pre-1.6) format.
fixtures.append(("legacyFormat", "torch.save({'w': tensor([1.])}, _use_new_zipfile_serialization=False)",
                 torch_bytes({"w": torch.tensor([1.0])}, "legacy", _use_new_zipfile_serialization=False)))

# 8. NumPy: one .npy as numpy.save writes it, and .npz archives (stored and deflated).
buffer = io.BytesIO()
np.save(buffer, np.array([[1.0, -2.0, 3.5], [0.0, 4.0, -0.25]], dtype=np.float32))
fixtures.append(("numpySaved2x3", "numpy.save of float32 [[1,-2,3.5],[0,4,-0.25]]", buffer.getvalue()))
a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
b = np.array([True, False])
buffer = io.BytesIO()
np.savez(buffer, a=a, b=b)
fixtures.append(("npzStored", "numpy.savez(a=float32 [[1,2,3],[4,5,6]], b=bool [True, False])", buffer.getvalue()))
buffer = io.BytesIO()
np.savez_compressed(buffer, a=a, fortran=np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))
fixtures.append(("npzDeflated", "numpy.savez_compressed(a=float32 [[1,2,3],[4,5,6]], fortran=Fortran-order f8 arange(6).reshape(2,3))",
                 buffer.getvalue()))

lines = [
    "// Generated by Tests/Fixtures/make_tensorio_fixtures.py with torch %s and numpy %s; do not edit." % (torch.__version__, np.__version__),
    "import Foundation",
    "",
    "/// Files written by real PyTorch and NumPy, embedded so that the tests need neither.",
    "enum Fixtures {",
]
for name, comment, data in fixtures:
    assert len(data) <= 4096, (name, len(data))
    encoded = base64.b64encode(data).decode()
    chunks = [encoded[i:i + 96] for i in range(0, len(encoded), 96)]
    lines.append("    /// %s (%d bytes)." % (comment, len(data)))
    lines.append("    static let %s = Data(base64Encoded: [" % name)
    for chunk in chunks:
        lines.append('        "%s",' % chunk)
    lines.append('    ].joined())!')
    lines.append("")
lines[-1] = "}"
with open("Tests/TensorIOTests/Fixtures.swift", "w") as f:
    f.write("\n".join(lines) + "\n")
for name, _, data in fixtures:
    print(name, len(data))
