#!/usr/bin/env python3
"""Fixtures saved by PyTorch 1.13, as users of Debian 12's python3-torch save them: models that
LibTorch 1.13 (the distribution build) can load where the 2.13 fixtures call newer operators.
Run with Debian's Python, from this folder:

    cd tests/data && /usr/bin/python3 make_fixtures_113.py
"""
import torch
import torch.nn as nn

from make_fixtures import MhaModel, jit_save, path, save_np, strip_debug


def make_mha():
    """nn.MultiheadAttention scripted by 1.13: its code calls no scaled_dot_product_attention."""
    torch.manual_seed(0)
    jit_save(torch.jit.script(MhaModel().eval()), path("mha_scripted_113.pt"))


def make_optimized():
    """A small CNN as deployment scripts leave it: optimize_for_mobile and saved for the lite interpreter
    (.ptl, XNNPACK's prepacked:: operators), and optimize_for_inference then torch.jit.save (its MKLDNN
    weight constants are written without their values)."""
    from torch.utils.mobile_optimizer import optimize_for_mobile

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 5)).eval()
    x = torch.rand(1, 3, 8, 8)
    mobile = optimize_for_mobile(torch.jit.script(m))
    mobile._save_for_lite_interpreter(path("cnn_mobile.ptl"))
    strip_debug(path("cnn_mobile.ptl"))
    save_np("cnn_mobile_x.npy", x.numpy())
    save_np("cnn_mobile_expected.npy", mobile(x).detach().numpy())
    conv = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 3)).eval()
    jit_save(torch.jit.optimize_for_inference(torch.jit.script(conv)), path("mkldnn_optimized_113.pt"))


if __name__ == "__main__":
    assert torch.__version__.startswith("1.13"), "run with PyTorch 1.13 (Debian 12's python3-torch)"
    make_mha()
    make_optimized()
