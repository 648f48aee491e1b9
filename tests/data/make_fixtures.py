#!/usr/bin/env python3
"""Makes the test fixtures: models exported by Python the way users export
them, tensors in every format the workbench reads, the outputs Python computes
for them, and broken or hostile files. Run with the PyTorch 2.13 of the project's
venv (packaging/install-deps.sh makes it), from this folder so that the source
paths traced models record stay relative:

    cd tests/data && ../../.venv/bin/python make_fixtures.py

Everything is seeded, small, and written next to this script.
"""
import argparse
import collections
import io
import json
import os
import pickle
import struct
import zipfile
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
np.random.seed(0)


def path(name):
    return os.path.join(HERE, name)


def save_np(name, array):
    np.save(path(name), array)


# ---------------------------------------------------------------- models
class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 20)
        self.fc2 = nn.Linear(20, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        return self.head(y.mean(dim=(2, 3)))


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor, y: torch.Tensor, scale: float = 1.0) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.proj(x) + y, x * y * scale


class TokenModel(nn.Module):
    """Integer inputs: token ids and a per-row count."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 6)

    def forward(self, tokens: torch.Tensor, count: int) -> torch.Tensor:
        return self.emb(tokens[:, :count]).sum(dim=1)


class DictOut(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"sum": a + b, "prod": a * b}


class NestedOut(nn.Module):
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple[torch.Tensor, List[torch.Tensor]]]:
        return x.sum(dim=1), (x.max(dim=1).values, [x * 2.0, x - 1.0])


class Prediction(NamedTuple):
    score: torch.Tensor
    parts: List[torch.Tensor]


class NamedTupleOut(nn.Module):
    def forward(self, x: torch.Tensor) -> Prediction:
        return Prediction(x.sum(dim=1), [x * 2.0, x - 1.0])


class DictOptional(nn.Module):
    def forward(self, x: torch.Tensor, extra: Dict[str, torch.Tensor],
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        y = x + extra["bias"]
        if mask is not None:
            y = y * mask
        return y


class ListIn(nn.Module):
    def forward(self, xs: List[torch.Tensor]) -> torch.Tensor:
        out = torch.zeros_like(xs[0])
        for x in xs:
            out = out + x
        return out


class AttentionBlock(nn.Module):
    """A pre-norm transformer block the modern way: F.scaled_dot_product_attention (PyTorch 2.0)
    and a tanh-approximated GELU in the feed-forward."""

    def __init__(self, dim: int = 16, heads: int = 2):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff1 = nn.Linear(dim, 4 * dim)
        self.ff2 = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        q = q.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)
        k = k.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)
        v = v.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        return x + self.ff2(F.gelu(self.ff1(self.norm2(x)), approximate="tanh"))


class MhaModel(nn.Module):
    """nn.MultiheadAttention with a key padding mask: two inputs, a tuple out."""

    def __init__(self, batch_first: bool = True):
        super().__init__()
        self.mha = nn.MultiheadAttention(12, 3, batch_first=batch_first)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        out, weights = self.mha(x, x, x, key_padding_mask=pad)
        assert weights is not None
        return out, weights


class GeluTanh(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return F.gelu(self.fc(x), approximate="tanh")


class Folding(nn.Module):
    """A weight-only chain of matrix products recomputed on every call unless the JIT folds it:
    freezing (and optimize_for_inference) turns it into a constant, whatever the BLAS."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(256, 256) * 0.06)
        self.fc = nn.Linear(10, 10)

    def forward(self, x):
        a = torch.tanh(self.w @ self.w)
        b = torch.tanh(a @ self.w)
        c = torch.tanh(b @ a)
        d = torch.tanh(c @ b)
        return self.fc(x) * d.mean()


def randomize_bn(m):
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.2, 0.2)
    return m


def make_models():
    mlp = Mlp().eval()
    x = torch.randn(2, 10)
    save_np("mlp_x.npy", x.numpy())
    traced = torch.jit.trace(mlp, x)
    jit_save(traced, path("mlp_traced.pt"), _extra_files={"producer.txt": "make_fixtures.py"})
    save_np("mlp_expected.npy", mlp(x).detach().numpy())
    # The same input in every format the workbench reads.
    np.savez(path("mlp_x.npz"), x=x.numpy())
    np.savez_compressed(path("mlp_x_compressed.npz"), x=x.numpy())
    torch.save(x, path("mlp_x.pt"))
    write_safetensors("mlp_x.safetensors", {"x": x})
    np.save(path("mlp_x_fortran.npy"), np.asfortranarray(x.numpy().astype(np.float64)))
    np.save(path("mlp_x_bigendian.npy"), x.numpy().astype(">f4"))
    with open(path("mlp_x.csv"), "w") as f:
        f.write(",".join(f"c{i}" for i in range(10)) + "\n")
        for row in x.numpy():
            f.write(",".join(repr(float(v)) for v in row) + "\n")

    cnn = randomize_bn(SmallCnn()).eval()
    img = torch.rand(1, 3, 12, 16)
    save_np("cnn_x.npy", img.numpy())
    scripted = torch.jit.script(cnn)
    jit_save(scripted, path("cnn_scripted.pt"))
    save_np("cnn_expected.npy", cnn(img).detach().numpy())

    # state_dicts the seed's way: torch.save(model.state_dict(), 'model.pth')
    trained = randomize_bn(SmallCnn()).eval()
    torch.save(trained.state_dict(), path("cnn_state_dict.pth"))
    save_np("cnn_state_dict_expected.npy", trained(img).detach().numpy())
    sd = trained.state_dict()
    bad = collections.OrderedDict((k, v) for k, v in sd.items() if k != "head.bias")
    bad["head.weight"] = torch.randn(5, 4)
    bad["extra.weight"] = torch.randn(3)
    torch.save(bad, path("cnn_state_dict_bad.pth"))
    opt = torch.optim.SGD(trained.parameters(), lr=0.1, momentum=0.9)
    torch.save({"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": opt.state_dict(), "loss": 0.25},
               path("cnn_checkpoint.pth"))
    write_safetensors("cnn_state_dict.safetensors", {k: v for k, v in sd.items()})
    rng = torch.get_rng_state()  # the fixtures after these stay as they were
    make_checkpoints(trained, img)
    torch.set_rng_state(rng)
    # A whole pickled module: needs its Python class.
    torch.save(trained, path("cnn_pickled_module.pt"))
    # Quantized weights: readable only inside their quantized model.
    quantized = torch.ao.quantization.quantize_dynamic(nn.Sequential(nn.Linear(4, 4)), {nn.Linear}, dtype=torch.qint8)
    torch.save(quantized.state_dict(), path("quantized_state_dict.pth"))
    # The legacy (pre-1.6) torch.save format.
    torch.save(trained.state_dict(), path("cnn_legacy.pth"), _use_new_zipfile_serialization=False)
    # ONNX (the exporter needs the onnx package; without it the committed file stays).
    try:
        torch.onnx.export(cnn, (img,), path("cnn.onnx"), opset_version=13, dynamo=False)
    except Exception as e:  # noqa: BLE001
        print("cnn.onnx kept as it is:", e)

    two = TwoInputs().eval()
    a, b = torch.randn(3, 4), torch.randn(3, 4)
    jit_save(torch.jit.script(two), path("two_inputs.pt"))
    np.savez(path("two_inputs_xy.npz"), x=a.numpy(), y=b.numpy())
    write_safetensors("two_inputs_xy.safetensors", {"y": b, "x": a})
    torch.save({"x": a, "y": b}, path("two_inputs_xy.pt"))
    save_np("two_inputs_x.npy", a.numpy())
    save_np("two_inputs_y.npy", b.numpy())
    o1, o2 = two(a, b, 2.5)
    save_np("two_inputs_expected0.npy", o1.detach().numpy())
    save_np("two_inputs_expected1_scale2.5.npy", o2.detach().numpy())

    tok = TokenModel().eval()
    tokens = torch.randint(0, 50, (3, 7), dtype=torch.int64)
    jit_save(torch.jit.script(tok), path("tokens.pt"))
    save_np("tokens_ids.npy", tokens.numpy())
    save_np("tokens_count.npy", np.array(4, dtype=np.int64))
    save_np("tokens_expected.npy", tok(tokens, 4).detach().numpy())

    jit_save(torch.jit.script(DictOut()), path("dict_out.pt"))
    jit_save(torch.jit.script(NestedOut()), path("nested_out.pt"))
    jit_save(torch.jit.script(NamedTupleOut()), path("namedtuple_out.pt"))
    jit_save(torch.jit.script(ListIn()), path("list_in.pt"))
    torch.save([torch.ones(2, 2), torch.full((2, 2), 3.0)], path("list_in_xs.pt"))

    jit_save(torch.jit.script(DictOptional()), path("dict_optional.pt"))
    np.savez(path("dict_optional_extra.npz"), bias=np.full((2, 3), 0.5, dtype=np.float32))
    save_np("dict_optional_x.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
    # Saved on a GPU: the same archive with its storages' location rewritten to cuda:0.
    retarget_storages("mlp_traced.pt", "cuda_saved.pt", "cuda:0")

    # Models of PyTorch 2.x: scaled_dot_product_attention, nn.MultiheadAttention, tanh GELU.
    torch.manual_seed(7)
    block = AttentionBlock().eval()
    seq = torch.randn(2, 5, 16)
    save_np("attention_x.npy", seq.numpy())
    jit_save(torch.jit.script(block), path("attention_scripted.pt"))
    jit_save(torch.jit.trace(block, seq), path("attention_traced.pt"))
    with torch.no_grad():
        save_np("attention_expected.npy", block(seq).numpy())
    mha = MhaModel().eval()
    mx = torch.randn(2, 4, 12)
    pad = torch.tensor([[False, False, False, True], [False, False, False, False]])
    jit_save(torch.jit.script(mha), path("mha_scripted.pt"))
    torch.save({"x": mx, "pad": pad}, path("mha_inputs.pt"))
    with torch.no_grad():
        torch.save(mha(mx, pad), path("mha_expected.pt"))
    gelu = GeluTanh().eval()
    gx = torch.randn(3, 8)
    save_np("gelu_tanh_x.npy", gx.numpy())
    jit_save(torch.jit.script(gelu), path("gelu_tanh.pt"))
    with torch.no_grad():
        save_np("gelu_tanh_expected.npy", gelu(gx).numpy())
    jit_save(torch.jit.script(Folding().eval()), path("folding.pt"))
    # Operators no LibTorch has: two calls of the traced MLP's code renamed, as a newer PyTorch's would be.
    rewrite_code("mlp_traced.pt", "missing_ops.pt",
                 [("torch.relu(", "torch.twb_future_relu("), ("torch.linear(", "ops.twb_future.linear(")])

    # Too new: an archive whose format version this LibTorch does not read.
    rewrite_zip("mlp_traced.pt", "too_new.pt", {"version": b"99\n"})
    # Truncated: the first half of a valid archive.
    with open(path("mlp_traced.pt"), "rb") as f:
        data = f.read()
    with open(path("truncated.pt"), "wb") as f:
        f.write(data[: len(data) // 2])


def make_checkpoints(trained, img):
    """Checkpoints saved the way training scripts and libraries save them, around SmallCnn's weights."""
    sd = collections.OrderedDict((k, v.clone()) for k, v in trained.state_dict().items())
    opt = torch.optim.SGD(trained.parameters(), lr=0.1, momentum=0.9)
    trained(img).sum().backward()
    opt.step()  # an optimizer state with momentum buffers, as after training
    with torch.no_grad():
        trained.load_state_dict(sd)  # the weights the checkpoints hold
    trained.zero_grad(set_to_none=True)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=30)
    args = argparse.Namespace(lr=0.1, arch="cnn", epochs=90)
    # torchvision's references/classification/train.py
    torch.save({"model": sd, "optimizer": opt.state_dict(), "lr_scheduler": sched.state_dict(), "epoch": 12,
                "args": args, "best_acc1": np.float64(0.81)}, path("ckpt_torchvision.pth"))
    # timm's CheckpointSaver: state_dict and state_dict_ema
    ema = collections.OrderedDict((k, v * 0.5 if v.is_floating_point() else v) for k, v in sd.items())
    torch.save({"epoch": 3, "arch": "smallcnn", "state_dict": sd, "state_dict_ema": ema,
                "optimizer": opt.state_dict(), "version": 2, "args": args, "metric": np.float32(0.5)},
               path("ckpt_timm.pth"))
    # PyTorch Lightning's layout, written by plain PyTorch: keys under the LightningModule's attribute.
    torch.save({"epoch": 1, "global_step": 10, "pytorch-lightning_version": "2.4.0",
                "state_dict": collections.OrderedDict(("model." + k, v) for k, v in sd.items()),
                "hyper_parameters": {"lr": 0.1, "hidden": 8},
                "callbacks": {"ModelCheckpoint{'monitor': 'val_loss'}": {"best_model_score": torch.tensor(0.25)}},
                "optimizer_states": [opt.state_dict()], "lr_schedulers": [sched.state_dict()]},
               path("ckpt_lightning.ckpt"))
    torch.save(collections.OrderedDict(("module." + k, v) for k, v in sd.items()), path("sd_dataparallel.pth"))
    torch.save(collections.OrderedDict(("_orig_mod." + k, v) for k, v in sd.items()), path("sd_compiled.pth"))
    for dtype, name in ((torch.float16, "float16"), (torch.bfloat16, "bfloat16")):
        low = collections.OrderedDict((k, v.to(dtype) if v.is_floating_point() else v) for k, v in sd.items())
        torch.save(low, path(f"sd_{name}.pth"))
        probe = SmallCnn().eval()
        probe.load_state_dict(low)  # PyTorch converts to the module's float32
        save_np(f"sd_{name}_expected.npy", probe(img).detach().numpy())
    torch.save({"state_dict": sd, "config": RunConfig(0.1, 90)}, path("ckpt_main_class.pth"))
    # A checkpoint whose pickle would create a file if anything ran it (saving it runs nothing).
    torch.save({"state_dict": sd, "payload": Canary()}, path("ckpt_canary.pth"))


def retarget_storages(src, dst, location):
    """Rewrites the device every storage was saved on, as if saved from that device."""
    import pickletools
    def rewrite(data):
        out = bytearray()
        ops = list(pickletools.genops(data))
        for n, (op, arg, pos) in enumerate(ops):
            end = ops[n + 1][2] if n + 1 < len(ops) else len(data)
            if op.name == "BINUNICODE" and arg == "cpu":
                enc = location.encode()
                out += b"X" + struct.pack("<I", len(enc)) + enc
            else:
                out += data[pos:end]
        return bytes(out)
    with zipfile.ZipFile(path(src)) as zin, zipfile.ZipFile(path(dst), "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith((".pkl")) and not info.filename.endswith("debug_pkl"):
                data = rewrite(data)
            zout.writestr(info.filename.replace(src[:-3], dst[:-3], 1), data)


def strip_debug(file):
    """Drops the debug_pkl records of a TorchScript archive: they hold the absolute
    source paths of the machine that exported it, and LibTorch does not need them."""
    with zipfile.ZipFile(file) as z:
        records = [(i, z.read(i.filename)) for i in z.infolist() if not i.filename.endswith(".debug_pkl")]
    with zipfile.ZipFile(file, "w") as z:
        for info, data in records:
            z.writestr(info, data)


def jit_save(module, file, **kwargs):
    module.save(file, **kwargs)
    strip_debug(file)


def rewrite_code(src, dst, replacements):
    """Copies a TorchScript archive with its code records edited (each replacement made once)."""
    with zipfile.ZipFile(path(src)) as zin, zipfile.ZipFile(path(dst), "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if "/code/" in info.filename and info.filename.endswith(".py"):
                text = data.decode()
                for old, new in replacements:
                    text = text.replace(old, new, 1)
                data = text.encode()
            zout.writestr(info.filename.replace(src[:-3], dst[:-3], 1), data)


def rewrite_zip(src, dst, replace):
    with zipfile.ZipFile(path(src)) as zin, zipfile.ZipFile(path(dst), "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            name = info.filename
            tail = name.split("/", 1)[1] if "/" in name else name
            zout.writestr(name.replace(src[:-3], dst[:-3], 1), replace.get(tail, zin.read(name)))


# ---------------------------------------------------------------- safetensors
ST_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
             torch.bool: "BOOL"}


def write_safetensors(name, tensors, header_override=None):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for key, t in tensors.items():
        t = t.contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[key] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if header_override:
        header_override(header)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path(name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# ---------------------------------------------------------------- tensor files
def make_tensors():
    save_np("dtype_int16.npy", np.arange(-3, 3, dtype=np.int16).reshape(2, 3))
    save_np("dtype_uint16.npy", np.array([0, 1, 65535], dtype=np.uint16))
    save_np("dtype_uint32.npy", np.array([0, 4294967295], dtype=np.uint32))
    save_np("dtype_uint64.npy", np.array([0, 2**40], dtype=np.uint64))
    save_np("dtype_bool.npy", np.array([[True, False], [False, True]]))
    save_np("dtype_float16.npy", np.array([0.5, -1.25, 65504.0], dtype=np.float16))
    save_np("dtype_int8.npy", np.array([-128, 0, 127], dtype=np.int8))
    save_np("dtype_complex64.npy", np.array([1 + 2j, -3.5j], dtype=np.complex64))
    save_np("dtype_float64_be.npy", np.array([1.5, -2.25, 1e300], dtype=">f8"))
    save_np("scalar.npy", np.array(7.5, dtype=np.float32))
    save_np("empty.npy", np.zeros((0, 3), dtype=np.float32))
    write_safetensors("mixed.safetensors", {"a": torch.arange(6, dtype=torch.int32).reshape(2, 3),
                                             "b": torch.tensor([1.0, 2.0], dtype=torch.bfloat16),
                                             "c": torch.tensor([True, False])})
    torch.save((torch.arange(3), {"k": torch.ones(2)}), path("nested.pt"))
    with open(path("table_noheader.csv"), "w") as f:
        f.write("1,2,3\n4,5,6\n")
    with open(path("table_ragged.csv"), "w") as f:
        f.write("a,b\n1,2\n3\n")
    make_images()


def make_images():
    from PIL import Image
    g = torch.Generator().manual_seed(1)
    img = torch.randint(0, 256, (3, 6, 8), dtype=torch.uint8, generator=g)
    Image.fromarray(img.permute(1, 2, 0).numpy(), "RGB").save(path("image.png"))
    save_np("image_expected.npy", (img.float() / 255.0).unsqueeze(0).numpy())
    # JPEG is lossy: a smooth gradient survives it, random noise does not.
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 16), torch.linspace(0, 1, 24), indexing="ij")
    grad = (torch.stack([xx, yy, (xx + yy) / 2]) * 255).round().to(torch.uint8)
    Image.fromarray(grad.permute(1, 2, 0).numpy(), "RGB").save(path("image.jpg"), quality=95)
    save_np("image_jpg_source.npy", (grad.float() / 255.0).unsqueeze(0).numpy())


# ---------------------------------------------------------------- broken and hostile files
def npy_with_header(name, header, data=b""):
    text = header.encode()
    pad = (64 - (10 + len(text) + 1) % 64) % 64
    text += b" " * pad + b"\n"
    with open(path(name), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


class Canary:
    """Creates the file twb_canary in the working directory if anything ever unpickles it."""

    def __reduce__(self):
        return (os.system, ("touch twb_canary",))


class RunConfig:
    """A class of the training script's own (__main__), pickled into a checkpoint."""

    def __init__(self, lr, epochs):
        self.lr = lr
        self.epochs = epochs


def flip_record_byte(src, dst, record_suffix):
    """Copies src with one byte of a stored record flipped: the zip stays valid, its CRC does not."""
    with open(path(src), "rb") as f:
        data = bytearray(f.read())
    with zipfile.ZipFile(path(src)) as z:
        info = next(i for i in z.infolist() if i.filename.endswith(record_suffix))
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    data[info.header_offset + 30 + name_len + extra_len + 3] ^= 0xFF
    with open(path(dst), "wb") as f:
        f.write(data)


def make_wrapped():
    """A model as it arrives packed: in a tar beside a note, and gzip-compressed (the load doctor names
    both, and they seed its fuzz target)."""
    import gzip
    import tarfile
    with tarfile.open(path("mlp_bundle.tar"), "w", format=tarfile.USTAR_FORMAT) as t:
        for name in ("notes.txt", "mlp_traced.pt"):
            info = t.gettarinfo(path(name), arcname="bundle/" + name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with open(path(name), "rb") as f:
                t.addfile(info, f)
    with open(path("mlp_traced.pt"), "rb") as f, open(path("mlp_traced.pt.gz"), "wb") as out:
        with gzip.GzipFile(filename="mlp_traced.pt", mode="wb", fileobj=out, mtime=0) as g:
            g.write(f.read())


def make_broken():
    flip_record_byte("mlp_traced.pt", "flipped_model.pt", "data/0")
    flip_record_byte("cnn_state_dict.pth", "flipped_state_dict.pth", "data/0")
    npy_with_header("bad_huge_shape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000,), }",
                    b"\0" * 16)
    npy_with_header("bad_overflow_shape.npy",
                    "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", b"\0" * 16)
    npy_with_header("bad_negative_shape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (-5, 2), }")
    npy_with_header("bad_dtype.npy", "{'descr': '<U10', 'fortran_order': False, 'shape': (2,), }", b"\0" * 80)
    npy_with_header("bad_object.npy", "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", b"\0" * 16)
    with open(path("mlp_x.npy"), "rb") as f:
        good = f.read()
    with open(path("bad_truncated.npy"), "wb") as f:
        f.write(good[: len(good) - 9])
    with open(path("bad_header_len.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", 60000) + b"{'descr'")
    write_safetensors("bad_offsets.safetensors", {"x": torch.ones(4)},
                      lambda h: h["x"].__setitem__("data_offsets", [0, 4000]))
    write_safetensors("bad_shape.safetensors", {"x": torch.ones(4)}, lambda h: h["x"].__setitem__("shape", [5]))
    with open(path("bad_header.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", 2**40) + b'{"x": 1}')
    # A torch.save archive whose storage record is shorter than its tensor needs.
    torch.save(torch.arange(100, dtype=torch.float32), path("bad_storage.pt"))
    with zipfile.ZipFile(path("bad_storage.pt")) as z:
        records = {i.filename: z.read(i.filename) for i in z.infolist()}
    with zipfile.ZipFile(path("bad_storage.pt"), "w", zipfile.ZIP_STORED) as z:
        for k, v in records.items():
            z.writestr(k, v[:40] if k.endswith("data/0") else v)
    # A pickle that would run a shell command if unpickled by Python: refused by name.
    torch.save({"x": torch.ones(2)}, path("evil.pt"))
    with zipfile.ZipFile(path("evil.pt")) as z:
        records = {i.filename: z.read(i.filename) for i in z.infolist()}
    with zipfile.ZipFile(path("evil.pt"), "w", zipfile.ZIP_STORED) as z:
        for k, v in records.items():
            z.writestr(k, pickle.dumps({"x": Evil()}, protocol=2) if k.endswith("data.pkl") else v)
    # A torch.export package layout (PyTorch >= 2.6 writes these; 1.13 cannot, so the layout is copied).
    with zipfile.ZipFile(path("exported.pt2"), "w") as z:
        z.writestr("exported/archive_format", "pt2")
        z.writestr("exported/version", "0\n")
        z.writestr("exported/models/model.json", "{}")
        z.writestr("exported/data/weights/weight_0", b"\0" * 16)
    # Hostile pickles inside valid torch.save archives: 100k nested tuples, a list that contains itself,
    # and 64 levels of (x, x) — 2**64 leaves if walked naively.
    def pickle_archive(name, body):
        with zipfile.ZipFile(path(name), "w", zipfile.ZIP_STORED) as z:
            z.writestr(name[:-3] + "/data.pkl", b"\x80\x02" + body + b".")
            z.writestr(name[:-3] + "/version", "3\n")
    pickle_archive("deep_nesting.pt", b"K\x01" + b"\x85" * 100000)
    pickle_archive("cycle.pt", b"]\x94h\x00a")
    pickle_archive("shared_dag.pt", b"K\x01" + b"2\x86" * 64)
    npy_with_header("bad_long_header.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1" * 9000 + ",), }")
    npy_with_header("bool_bytes.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b"\x00\x01\x02")
    torch.save(torch.arange(3.0).expand(1000, 3), path("expanded.pt"))
    with open(path("empty.pt"), "wb"):
        pass
    with open(path("notes.txt"), "w") as f:
        f.write("model trained on 2024-01-01; see model.pt\n")
    with open(path("lfs_pointer.pt"), "w") as f:
        f.write("version https://git-lfs.github.com/spec/v1\noid sha256:" + "ab" * 32 + "\nsize 46827520\n")
    with open(path("download.pt"), "w") as f:
        f.write("<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body></body></html>\n")
    with open(path("random.bin"), "wb") as f:
        f.write(bytes(np.random.RandomState(3).randint(0, 256, 300, dtype=np.uint8)))
    with open(path("plain.pkl"), "wb") as f:
        pickle.dump({"a": 1}, f, protocol=4)


def make_sample():
    """The bundled sample: a little CNN with conv + batch-norm, and one input image tensor."""
    out = os.path.join(HERE, "..", "..", "resources", "sample")
    os.makedirs(out, exist_ok=True)

    class SampleNet(nn.Module):
        def __init__(self):
            super().__init__()
            layers = []
            chans = [3, 16, 32, 64]
            for i in range(3):
                layers += [nn.Conv2d(chans[i], chans[i + 1], 3, stride=2, padding=1, bias=False),
                           nn.BatchNorm2d(chans[i + 1]), nn.ReLU()]
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Linear(64, 10)

        def forward(self, x):
            return self.classifier(self.features(x).mean(dim=(2, 3)))

    torch.manual_seed(42)
    net = randomize_bn(SampleNet()).eval()
    x = torch.rand(1, 3, 64, 64)
    jit_save(torch.jit.script(net), os.path.join(out, "sample_cnn.pt"))
    np.save(os.path.join(out, "sample_input.npy"), x.numpy())
    np.save(os.path.join(out, "sample_expected.npy"), net(x).detach().numpy())


def make_worker_faults():
    """Models that fail the way user models do, for the worker tests: one that never returns, and one
    that allocates far more memory than it should (4 GiB for a 4-element input)."""

    class Forever(nn.Module):
        def forward(self, x):
            y = x
            while True:
                y = y + 1.0
            return y

    class Greedy(nn.Module):
        def forward(self, x):
            return x.sum() + torch.ones(x.numel() * (1 << 28)).sum()

    jit_save(torch.jit.script(Forever()), path("loop_forever.pt"))
    jit_save(torch.jit.script(Greedy()), path("greedy_alloc.pt"))
    save_np("four.npy", np.arange(4, dtype=np.float32))


def make_all_half_state_dict():
    """Every tensor of SmallCnn's trained state_dict .half()ed, BatchNorm's num_batches_tracked counters
    included, as a script that converts a whole dict does: load_state_dict takes it (copy_ converts each
    into the module's dtype), and so must the workbench."""
    sd = torch.load(path("cnn_state_dict.pth"))
    half = collections.OrderedDict((k, v.half()) for k, v in sd.items())
    torch.save(half, path("sd_all_half.pth"))
    probe = SmallCnn().eval()
    probe.load_state_dict(half)
    img = torch.from_numpy(np.load(path("cnn_x.npy")))
    save_np("sd_all_half_expected.npy", probe(img).detach().numpy())


def make_operator_library_models():
    """Scripted models that call operators of libraries LibTorch loads: a project's own (twbtest::scale,
    registered by tests/tools/twb_test_ops.cpp) and torchvision's nms. The schemas are defined here with
    torch.library and Python implementations of the same arithmetic, so that the archives call them by
    name and the expected outputs come from Python."""
    own = torch.library.Library("twbtest", "DEF")
    own.define("scale(Tensor x, float s) -> Tensor")
    own.impl("scale", lambda x, s: x * s + 1, "CPU")

    class UsesOwnOperator(nn.Module):
        def forward(self, x):
            return torch.ops.twbtest.scale(torch.relu(x), 2.0)

    m = torch.jit.script(UsesOwnOperator())
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(7))
    jit_save(m, path("custom_op.pt"))
    save_np("custom_op_x.npy", x.numpy())
    save_np("custom_op_expected.npy", m(x).numpy())

    def nms(boxes, scores, iou_threshold):
        # Greedy non-maximum suppression, as torchvision's: indices by descending score.
        order = torch.argsort(scores, descending=True)
        keep = []
        suppressed = torch.zeros(len(boxes), dtype=torch.bool)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        for i in order.tolist():
            if suppressed[i]:
                continue
            keep.append(i)
            x1 = torch.maximum(boxes[i, 0], boxes[:, 0])
            y1 = torch.maximum(boxes[i, 1], boxes[:, 1])
            x2 = torch.minimum(boxes[i, 2], boxes[:, 2])
            y2 = torch.minimum(boxes[i, 3], boxes[:, 3])
            inter = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
            iou = inter / (area[i] + area - inter)
            suppressed |= iou > iou_threshold
        return torch.tensor(keep, dtype=torch.int64)

    vision = torch.library.Library("torchvision", "DEF")
    vision.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    vision.impl("nms", nms, "CPU")

    class Suppress(nn.Module):
        def forward(self, boxes, scores):
            return torch.ops.torchvision.nms(boxes, scores, 0.5)

    g = torch.Generator().manual_seed(3)
    xy = torch.rand(40, 2, generator=g) * 50
    wh = torch.rand(40, 2, generator=g) * 20 + 5
    boxes = torch.cat([xy, xy + wh], dim=1)
    scores = torch.rand(40, generator=g)
    s = torch.jit.script(Suppress())
    jit_save(s, path("vision_nms.pt"))
    save_np("vision_nms_boxes.npy", boxes.numpy())
    save_np("vision_nms_scores.npy", scores.numpy())
    save_np("vision_nms_expected.npy", s(boxes, scores).numpy())


def make_typed_inputs():
    """Models whose inputs are not one float tensor: an LSTM taking its state as a tuple, and a masked
    embedding taking int64 ids and a bool mask, each with what Python gives for its inputs."""

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(6, 12, num_layers=2)
            self.head = nn.Linear(12, 3)

        def forward(self, x, hc: Tuple[torch.Tensor, torch.Tensor]):
            y, (h, c) = self.lstm(x, hc)
            return self.head(y[-1]), h, c

    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(50, 8)
            self.head = nn.Linear(8, 2)

        def forward(self, ids, mask):
            e = self.embed(ids).masked_fill(mask.unsqueeze(-1), 0.0)
            return self.head(e.sum(dim=1))

    g = torch.Generator().manual_seed(11)
    rnn = torch.jit.script(Recurrent().eval())
    x = torch.randn(5, 1, 6, generator=g)
    h0 = torch.randn(2, 1, 12, generator=g)
    c0 = torch.randn(2, 1, 12, generator=g)
    jit_save(rnn, path("rnn_state.pt"))
    # A bare nn.LSTM scripted as it is: its forward is overloaded, saved as forward__0 and forward__1.
    jit_save(torch.jit.script(nn.LSTM(6, 12).eval()), path("lstm_overloaded.pt"))
    save_np("rnn_x.npy", x.numpy())
    save_np("rnn_h0.npy", h0.numpy())
    save_np("rnn_c0.npy", c0.numpy())
    torch.save((h0, c0), path("rnn_hc.pt"))
    with torch.no_grad():
        torch.save(rnn(x, (h0, c0)), path("rnn_expected.pt"))

    masked = torch.jit.script(Masked().eval())
    ids = torch.randint(0, 50, (1, 7), generator=g)
    mask = torch.tensor([[False, False, True, False, True, False, False]])
    jit_save(masked, path("masked.pt"))
    save_np("masked_ids.npy", ids.numpy())
    save_np("masked_mask.npy", mask.numpy())
    save_np("masked_mask_float.npy", mask.float().numpy())
    with torch.no_grad():
        save_np("masked_expected.npy", masked(ids, mask).numpy())


def make_quantized_model():
    """An MLP whose Linear layers torch.ao.quantization.quantize_dynamic made int8, scripted: its packed
    weights are repacked for the loading process's quantized engine."""
    g = torch.Generator().manual_seed(13)
    torch.manual_seed(13)
    q = torch.ao.quantization.quantize_dynamic(Mlp().eval(), {nn.Linear}, dtype=torch.qint8)
    m = torch.jit.script(q)
    x = torch.randn(4, 10, generator=g)
    jit_save(m, path("mlp_quantized.pt"))
    save_np("mlp_quantized_x.npy", x.numpy())
    with torch.no_grad():
        save_np("mlp_quantized_expected.npy", m(x).numpy())


class QuantizedConv(nn.Module):
    """Eager-mode static quantization's stubs around a convolution."""

    def __init__(self, conv: nn.Module):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.conv = conv
        self.relu = nn.ReLU()
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.relu(self.conv(self.quant(x))))


class LstmClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 12, num_layers=2, batch_first=True)
        self.fc = nn.Linear(12, 3)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[:, -1])


def make_sequence_first_attention():
    """nn.MultiheadAttention as it is made by default (batch_first=False): [T, N, E] inputs, though its
    scripted graph holds the batch-first fast path too."""
    torch.manual_seed(19)
    jit_save(torch.jit.script(MhaModel(batch_first=False).eval()), path("mha_seq_first.pt"))


def make_quantized_layers():
    """Quantized layers whose weights are packed, as deployers quantize them: statically quantized
    convolutions, 2-d grouped and 1-d (traced), and a dynamically quantized LSTM (scripted). Nothing in their graphs but
    the packed weights tells their inputs' shapes."""
    torch.manual_seed(17)
    for conv, shape, name in [(nn.Conv2d(4, 8, 3, groups=2), (4, 16, 16), "conv_quantized.pt"),
                              (nn.Conv1d(5, 8, 3), (5, 32), "conv1d_quantized.pt")]:
        module = QuantizedConv(conv).eval()
        module.qconfig = torch.ao.quantization.get_default_qconfig("fbgemm")
        prepared = torch.ao.quantization.prepare(module)
        prepared(torch.randn(2, *shape))
        quantized = torch.ao.quantization.convert(prepared)
        jit_save(torch.jit.trace(quantized, torch.randn(1, *shape)), path(name))
    lstm = torch.ao.quantization.quantize_dynamic(LstmClassifier().eval(), {nn.LSTM, nn.Linear}, dtype=torch.qint8)
    jit_save(torch.jit.script(lstm), path("lstm_quantized.pt"))


class Overflow(nn.Module):
    """Divergence: in float16 the scaled values overflow to inf at the marked line, nowhere before."""

    def __init__(self):
        super().__init__()
        self.register_buffer("gain", torch.tensor(10.0))

    def forward(self, x):
        h = x * self.gain
        s = h * 1e4  # float16 overflows here
        return torch.exp(s / 1e5)


class Accumulate(nn.Module):
    """Divergence: doubling small whole numbers is exact in bfloat16; their running sum is not."""

    def forward(self, x):
        y = x * 2.0
        return torch.cumsum(y, dim=-1)  # bfloat16 parts from float32 here


def make_divergence_models():
    jit_save(torch.jit.script(Overflow().eval()), path("overflow.pt"))
    save_np("overflow_x.npy", np.linspace(-1, 1, 16, dtype=np.float32).reshape(2, 8))
    jit_save(torch.jit.script(Accumulate().eval()), path("accumulate.pt"))
    save_np("accumulate_x.npy", np.ones((1, 600), dtype=np.float32))
    torch.manual_seed(3)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), 2).eval()
    jit_save(torch.jit.script(encoder), path("encoder_scripted.pt"))
    save_np("encoder_x.npy", torch.randn(1, 5, 16).numpy())


class FixedWork(nn.Module):
    """About a millisecond of matrix products on one thread, the same work every call: the service time
    of the queueing tests (tst_load) and the load benchmark."""

    def __init__(self, n: int = 6, size: int = 160):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w = nn.Parameter(torch.randn(size, size, generator=g) / size**0.5)
        self.n = n

    def forward(self, x):
        y = x
        for _ in range(self.n):
            y = torch.tanh(y @ self.w)
        return y


class PatchViT(nn.Module):
    """A vision transformer's front: 8×8 patches, a class token and a learned position embedding of 17
    places, which fix the image at 32×32."""

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, 16, 8, 8)
        self.cls = nn.Parameter(torch.randn(1, 1, 16))
        self.pos = nn.Parameter(torch.randn(1, 17, 16))
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        p = self.patch(x).flatten(2).transpose(1, 2)
        p = torch.cat([self.cls.expand(p.shape[0], -1, -1), p], 1) + self.pos
        return self.head(p.mean(1))


class ImageListDetector(nn.Module):
    """A detector's interface as torchvision's: a list of [C, H, W] images, each batched by the model,
    and a dict of boxes and scores for each."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, images: List[torch.Tensor]) -> List[Dict[str, torch.Tensor]]:
        out: List[Dict[str, torch.Tensor]] = []
        for image in images:
            score = self.conv(image.unsqueeze(0))[0].sigmoid().amax(0).flatten()
            keep = torch.topk(score, 5).indices
            boxes = torch.stack([keep.float(), keep.float(), keep.float() + 1, keep.float() + 1], 1)
            out.append({"boxes": boxes, "scores": score[keep]})
        return out


def make_vision_inputs():
    """Models whose input shape is told by what they hold, not by their first layer's guess: a vision
    transformer traced and frozen (its position embedding fixes the side) and a detector taking a list of
    images."""
    torch.manual_seed(23)
    vit = PatchViT().eval()
    traced = torch.jit.trace(vit, torch.randn(1, 3, 32, 32))
    jit_save(traced, path("vit_traced.pt"))
    jit_save(torch.jit.freeze(torch.jit.script(vit)), path("vit_frozen.pt"))
    jit_save(torch.jit.script(ImageListDetector().eval()), path("detector_list.pt"))


class CifarNet(nn.Module):
    """The CIFAR-10 tutorial's net, smaller: two convolutions and poolings, then a Linear of 16×5×5, which
    fixes the image at 32×32."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


class CifarNetView(CifarNet):
    """Flattened as the tutorial once did."""

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc(x.view(-1, 16 * 5 * 5))


class MnistNet(nn.Module):
    """pytorch/examples' MNIST net, narrower: 28×28 is fixed by the Linear after flatten."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(8 * 12 * 12, 10)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = self.dropout(F.max_pool2d(x, 2))
        return F.log_softmax(self.fc(torch.flatten(x, 1)), dim=1)


class UnevenPools(nn.Module):
    """Poolings as functions: a 2×3 window with no stride given (the window's), then a 2×2 rounding up;
    the Linear after them takes 4×12×8, which sides 46 to 49 give (48 the one suggested)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 12 * 8, 3)

    def forward(self, x):
        x = F.avg_pool2d(F.max_pool2d(self.conv(x), (2, 3)), 2, ceil_mode=True)
        return self.fc(torch.flatten(x, 1))


class BasicBlock(nn.Module):
    """A residual block as CIFAR ResNets write it: two 3×3 convolutions, and a shortcut that is the input
    itself or, where the block halves the side, a strided 1×1 convolution; summed in place."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class CifarResNet(nn.Module):
    """A CIFAR ResNet, narrow and short: three stages halving the side twice, a 4×4 average pooling by
    function, then view and a Linear of 16 features. Sides 13 to 28 fit; 16, the one of them images are made in, is suggested."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.layer1 = BasicBlock(4, 4, 1)
        self.layer2 = BasicBlock(4, 8, 2)
        self.layer3 = BasicBlock(8, 16, 2)
        self.linear = nn.Linear(16, 10)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


class DenseJoin(nn.Module):
    """Channels joined, as DenseNets do: the input's 4 and a convolution's 4, pooled by 3 with a stride of 2
    given to F.max_pool2d to 8×6×6 for the Linear; sides 11 and 12 fit."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.grow = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(8 * 6 * 6, 2)

    def forward(self, x):
        x = self.stem(x)
        x = torch.cat([x, torch.relu(self.grow(x))], 1)
        return self.fc(torch.flatten(F.max_pool2d(x, 3, 2, 1), 1))


class QuantizedConvFc(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.conv = nn.Conv2d(3, 4, 3)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(4 * 14 * 14, 5)
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        x = self.relu(self.conv(self.quant(x)))
        return self.dequant(self.fc(torch.flatten(x, 1)))


def make_flattened_classifiers():
    """Small CNNs whose Linear after flatten fixes the image side (no adaptive pooling): the CIFAR-10
    tutorial's net scripted, and traced flattening by view; the MNIST example's frozen; a statically
    quantized one, traced."""
    torch.manual_seed(29)
    jit_save(torch.jit.script(CifarNet().eval()), path("cifar_net_scripted.pt"))
    jit_save(torch.jit.trace(CifarNetView().eval(), torch.randn(1, 3, 32, 32)), path("cifar_net_view.pt"))
    jit_save(torch.jit.freeze(torch.jit.script(MnistNet().eval())), path("mnist_net_frozen.pt"))
    jit_save(torch.jit.script(UnevenPools().eval()), path("uneven_pools.pt"))
    model = QuantizedConvFc().eval()
    model.qconfig = torch.ao.quantization.get_default_qconfig("fbgemm")
    prepared = torch.ao.quantization.prepare(model)
    prepared(torch.randn(4, 3, 16, 16))
    quantized = torch.ao.quantization.convert(prepared)
    jit_save(torch.jit.trace(quantized, torch.randn(1, 3, 16, 16)), path("quantized_conv_fc.pt"))


class FlagPooled(nn.Module):
    """A module attribute picks a branch on the way to the Linear (`if self.extra_pool:`; the branch not
    taken has a Linear of its own, for 16×16); with it, a pooling of 2 and one of 3 by stride 2 give 4×7×7
    from sides 26 to 29. On the way a one-channel attention map scales the features (broadcast)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.attention = nn.Conv2d(4, 1, 1)
        self.extra_pool = True
        self.unpooled = nn.Linear(4 * 4 * 4, 4 * 7 * 7)
        self.fc = nn.Linear(4 * 7 * 7, 2)

    def forward(self, x):
        x = F.relu(self.conv(x))
        x = x * torch.sigmoid(self.attention(x))
        if self.extra_pool:
            x = F.max_pool2d(x, 2)
        else:
            x = self.unpooled(F.avg_pool2d(x, 4).flatten(1)).view(-1, 4, 7, 7)
            return self.fc(x.flatten(1))
        return self.fc(torch.flatten(F.max_pool2d(x, 3, 2, 1), 1))


def make_branching_classifiers():
    """CNNs whose trunk branches before the Linear after flatten fixes the side: a CIFAR ResNet scripted,
    frozen and traced (residual sums; traced, its view's batch through NumToTensor), channels joined,
    traced, and a branch a module attribute picks, scripted."""
    torch.manual_seed(31)
    jit_save(torch.jit.script(CifarResNet().eval()), path("cifar_resnet_scripted.pt"))
    jit_save(torch.jit.freeze(torch.jit.script(CifarResNet().eval())), path("cifar_resnet_frozen.pt"))
    jit_save(torch.jit.trace(CifarResNet().eval(), torch.randn(1, 3, 16, 16)), path("cifar_resnet_traced.pt"))
    jit_save(torch.jit.trace(DenseJoin().eval(), torch.randn(1, 1, 12, 12)), path("dense_join.pt"))
    jit_save(torch.jit.script(FlagPooled().eval()), path("flag_pooled.pt"))


class SignalNet(nn.Module):
    """A 1-d CNN classifying a signal (a heartbeat, a sensor's window): two convolutions and poolings, then
    flatten into a Linear of 8×30, which lengths 128 to 131 give."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 4, 7, padding=3)
        self.pool = nn.MaxPool1d(2)
        self.conv2 = nn.Conv1d(4, 8, 5)
        self.fc = nn.Linear(8 * 30, 5)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = F.max_pool1d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def make_signal_classifier():
    """A 1-d CNN whose Linear after flatten fixes the signal's length, scripted."""
    torch.manual_seed(37)
    jit_save(torch.jit.script(SignalNet().eval()), path("signal_net.pt"))


class Unfilled(nn.Module):
    """What holds nothing when it is made: an early return leaves TorchScript's uninitialized values in the
    branch taken, and invert_permutation's torch.empty_like is filled in place afterwards (as
    pack_padded_sequence does)."""

    def forward(self, x, perm: Optional[torch.Tensor] = None):
        if perm is None:
            return x * 2
        inverse = torch.empty_like(perm)
        inverse.scatter_(0, perm, torch.arange(perm.numel(), device=perm.device))
        return x[inverse] * 2


def make_unfilled():
    jit_save(torch.jit.script(Unfilled().eval()), path("unfilled.pt"))
    save_np("unfilled_perm.npy", np.array([2, 0, 3, 1], dtype=np.int64))


def make_load_models():
    jit_save(torch.jit.script(FixedWork().eval()), path("fixed_work.pt"))


if __name__ == "__main__":
    make_models()
    make_load_models()
    make_divergence_models()
    make_worker_faults()
    make_operator_library_models()
    make_all_half_state_dict()
    make_typed_inputs()
    make_quantized_model()
    make_quantized_layers()
    make_sequence_first_attention()
    make_vision_inputs()
    make_flattened_classifiers()
    make_branching_classifiers()
    make_signal_classifier()
    make_unfilled()
    make_tensors()
    make_broken()
    make_wrapped()
    make_sample()
    print("fixtures written to", HERE)
