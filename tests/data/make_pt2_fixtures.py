#!/usr/bin/env python3
"""AOTInductor packages (.pt2) of the fixtures' MLP and small CNN, compiled by torch.export and
torch._inductor.aoti_compile_and_package with the CPU wheel and the machine's g++, with the same weights
as their TorchScript twins (mlp_traced.pt, cnn_scripted.pt), and a plain ExportedProgram (torch.export.save,
not compiled). The packages are compiled for AVX2 (cpp.simdlen = 256), not the compiling CPU's widest
vectors, so that they run on every x86-64 machine the tests do, AVX-512 or not. Run from tests/data with the project's venv after make_fixtures.py; it takes about a minute:
    ../../.venv/bin/python make_pt2_fixtures.py"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import Mlp, SmallCnn  # noqa: E402


def twin(module, archive):
    module.load_state_dict(torch.jit.load(archive).state_dict())
    return module.eval()


def main():
    torch._inductor.config.cpp.simdlen = 256
    here = os.path.dirname(os.path.abspath(__file__))
    os.chdir(here)
    x = torch.from_numpy(np.load("mlp_x.npy"))
    mlp = twin(Mlp(), "mlp_traced.pt")
    batch = torch.export.Dim("batch", min=1, max=64)
    ep = torch.export.export(mlp, (x,), dynamic_shapes={"x": {0: batch}})
    torch._inductor.aoti_compile_and_package(ep, package_path="mlp_aoti.pt2")
    torch.export.save(ep, "mlp_exported.pt2")
    x5 = torch.randn(5, 10, generator=torch.Generator().manual_seed(5))
    np.save("mlp_x5.npy", x5.numpy())
    np.save("mlp_x5_expected.npy", mlp(x5).detach().numpy())

    img = torch.from_numpy(np.load("cnn_x.npy"))
    cnn = twin(SmallCnn(), "cnn_scripted.pt")
    torch._inductor.aoti_compile_and_package(torch.export.export(cnn, (img,)), package_path="cnn_aoti.pt2")
    print("wrote mlp_aoti.pt2 (dynamic batch 1..64), cnn_aoti.pt2 (static), mlp_exported.pt2, mlp_x5*.npy with",
          torch.__version__)


if __name__ == "__main__":
    main()
