#!/usr/bin/env python3
"""Exports the benchmark models into the folder given as the first argument:
a small MLP (10 -> 20 -> 10) and torchvision's resnet18 (random weights),
traced the way users export them. Run with Debian's PyTorch (/usr/bin/python3)."""
import os
import sys

import torch
import torchvision

out = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)

mlp = torch.nn.Sequential(torch.nn.Linear(10, 20), torch.nn.ReLU(), torch.nn.Linear(20, 10)).eval()
torch.jit.trace(mlp, torch.randn(1, 10)).save(os.path.join(out, "mlp.pt"))

resnet = torchvision.models.resnet18().eval()
torch.jit.trace(resnet, torch.randn(1, 3, 224, 224)).save(os.path.join(out, "resnet18.pt"))
print("wrote", os.path.join(out, "mlp.pt"), "and", os.path.join(out, "resnet18.pt"))
