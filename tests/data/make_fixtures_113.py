#!/usr/bin/env python3
"""Fixtures saved by PyTorch 1.13, as users of Debian 12's python3-torch save them: models that
LibTorch 1.13 (the distribution build) can load where the 2.13 fixtures call newer operators.
Run with Debian's Python, from this folder:

    cd tests/data && /usr/bin/python3 make_fixtures_113.py
"""
import torch

from make_fixtures import MhaModel, jit_save, path


def make_mha():
    """nn.MultiheadAttention scripted by 1.13: its code calls no scaled_dot_product_attention."""
    torch.manual_seed(0)
    jit_save(torch.jit.script(MhaModel().eval()), path("mha_scripted_113.pt"))


if __name__ == "__main__":
    assert torch.__version__.startswith("1.13"), "run with PyTorch 1.13 (Debian 12's python3-torch)"
    make_mha()
