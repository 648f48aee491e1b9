#!/usr/bin/env python3
"""Writes the memory benchmark's 268 MB model into the folder given as the first argument, the ways
users save one: a traced TorchScript archive (big.pt), its state_dict (big_state_dict.pth) and the same
weights as .safetensors (big.safetensors), each about 268 MB (one 8192x8192 float32 Linear)."""
import json
import os
import struct
import sys

import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(8192, 8192)).eval()
torch.jit.trace(model, torch.randn(1, 8192)).save(os.path.join(out, "big.pt"))
torch.save(model.state_dict(), os.path.join(out, "big_state_dict.pth"))
# safetensors by hand: an 8-byte header length, the JSON header, the raw little-endian data.
tensors = {k: v.contiguous().numpy() for k, v in model.state_dict().items()}
header, offset = {}, 0
for name, array in tensors.items():
    header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
    offset += array.nbytes
text = json.dumps(header).encode()
with open(os.path.join(out, "big.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text)
    for array in tensors.values():
        f.write(array.astype("<f4").tobytes())
