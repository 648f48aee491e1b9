#!/usr/bin/env python3
"""Makes a corpus of the model files people deploy, the way they save them, with inputs and what Python
computes for them:

    python make_corpus.py OUTDIR

Run it with each PyTorch the workbench must read (the project's venv has 2.13; Debian's python3-torch is
1.13). It writes OUTDIR/manifest.json and, for every kind, the model, its inputs and Python's outputs
(torch.save of the whole output, whatever its structure). A kind this PyTorch cannot make (torchvision
absent, say) is listed as skipped with the reason. Each entry says what the workbench must do with it:

    "expect": "run"                 run and match Python's outputs
    "expect": "explained:KIND"      be named as KIND (torchwb inspect --json) with a fix

Seeded and small, except the detection model, which is torchvision's smallest.
"""
import hashlib
import json
import os
import pickletools
import struct
import sys
import traceback
import warnings
import zipfile
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    import torchvision
except Exception:  # absent, or built for another PyTorch
    torchvision = None

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "corpus")
ENTRIES = []


def out(name):
    return os.path.join(OUT, name)


def save_inputs(prefix, **tensors):
    """Each input as .npy (what users have), named PREFIX_ARG.npy; returns the -i specs."""
    specs = []
    for arg, t in tensors.items():
        file = "%s_%s.npy" % (prefix, arg.replace(".", "_"))
        np.save(out(file), t.numpy())
        specs.append("%s=%s" % (arg, file))
    return specs


def expected(prefix, value):
    file = prefix + "_expected.pt"
    torch.save(value, out(file))
    return file


def kind(name, what, expect="run"):
    """Registers a maker; a maker returns the entry's fields, or raises to be listed as skipped."""
    def register(fn):
        ENTRIES.append((name, what, expect, fn))
        return fn
    return register


def seeded(seed=0):
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        return self.head(x.mean(dim=(2, 3)))


def trained_cnn():
    seeded(1)
    m = Cnn()
    with torch.no_grad():  # running statistics that are not the defaults, as a trained model's are
        m.bn1.running_mean.uniform_(-0.5, 0.5)
        m.bn1.running_var.uniform_(0.5, 1.5)
    return m.eval()


def image(g, n=1, size=32):
    return torch.randn(n, 3, size, size, generator=g)


def outputs(module, *inputs):
    """What Python computes: the reference the workbench must match."""
    with torch.no_grad():
        return module(*inputs)


@kind("mlp_scripted", "torch.jit.script of an MLP")
def _():
    g = seeded()
    m = torch.jit.script(Mlp().eval())
    x = torch.randn(2, 16, generator=g)
    m.save(out("mlp_scripted.pt"))
    return {"inputs": save_inputs("mlp_scripted", x=x), "reference": expected("mlp_scripted", outputs(m, x))}


@kind("cnn_traced", "torch.jit.trace of a CNN with BatchNorm")
def _():
    g = seeded()
    x = image(g)
    m = torch.jit.trace(trained_cnn(), x)
    m.save(out("cnn_traced.pt"))
    return {"inputs": save_inputs("cnn_traced", x=x), "reference": expected("cnn_traced", outputs(m, x))}


@kind("cnn_frozen", "torch.jit.freeze of a scripted CNN (BatchNorm folded, weights as constants)")
def _():
    g = seeded()
    x = image(g)
    m = torch.jit.freeze(torch.jit.script(trained_cnn()))
    m.save(out("cnn_frozen.pt"))
    return {"inputs": save_inputs("cnn_frozen", x=x), "reference": expected("cnn_frozen", outputs(m, x))}


@kind("cnn_optimized_for_inference", "torch.jit.optimize_for_inference of a scripted CNN")
def _():
    g = seeded()
    x = image(g)
    m = torch.jit.optimize_for_inference(torch.jit.script(trained_cnn()))
    m.save(out("cnn_optimized_for_inference.pt"))
    entry = {"inputs": save_inputs("cnn_optimized_for_inference", x=x),
             "reference": expected("cnn_optimized_for_inference", outputs(m, x))}
    with zipfile.ZipFile(out("cnn_optimized_for_inference.pt")) as z:
        code = b"".join(z.read(n) for n in z.namelist() if n.endswith(".py"))
    if b"ConstantMKLDNNTensor" in code:
        # MKLDNN constants are saved without their values: no LibTorch can load them back.
        entry["expect"] = "explained:optimized_for_inference"
    return entry


@kind("cnn_mobile", "optimize_for_mobile, saved for the lite interpreter (.ptl)")
def _():
    from torch.utils.mobile_optimizer import optimize_for_mobile
    g = seeded()
    x = image(g)
    m = optimize_for_mobile(torch.jit.script(trained_cnn()))
    m._save_for_lite_interpreter(out("cnn_mobile.ptl"))
    return {"file": "cnn_mobile.ptl", "inputs": save_inputs("cnn_mobile", x=x),
            "reference": expected("cnn_mobile", outputs(m, x)), "tolerance": 1e-4}


@kind("mlp_dynamic_quantized", "torch.ao.quantization.quantize_dynamic of an MLP's Linear layers, scripted")
def _():
    g = seeded()
    x = torch.randn(2, 16, generator=g)
    q = torch.ao.quantization.quantize_dynamic(Mlp().eval(), {nn.Linear}, dtype=torch.qint8)
    m = torch.jit.script(q)
    m.save(out("mlp_dynamic_quantized.pt"))
    return {"inputs": save_inputs("mlp_dynamic_quantized", x=x),
            "reference": expected("mlp_dynamic_quantized", outputs(m, x)), "tolerance": 1e-3,
            "engine": torch.backends.quantized.engine}


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, num_layers=2)
        self.out = nn.Linear(16, 3)

    def forward(self, x, hc: Tuple[torch.Tensor, torch.Tensor]):
        y, (h, c) = self.lstm(x, hc)
        return self.out(y), (h, c)


@kind("lstm_dynamic_quantized", "quantize_dynamic of an LSTM that takes and returns its state tuple, scripted")
def _():
    g = seeded()
    x = torch.randn(6, 1, 8, generator=g)
    h0, c0 = torch.randn(2, 1, 16, generator=g), torch.randn(2, 1, 16, generator=g)
    q = torch.ao.quantization.quantize_dynamic(Tagger().eval(), {nn.LSTM, nn.Linear}, dtype=torch.qint8)
    m = torch.jit.script(q)
    m.save(out("lstm_dynamic_quantized.pt"))
    return {"inputs": save_inputs("lstm_dynamic_quantized", x=x, **{"hc.0": h0, "hc.1": c0}),
            "reference": expected("lstm_dynamic_quantized", outputs(m, x, (h0, c0))), "tolerance": 1e-3,
            "engine": torch.backends.quantized.engine}


class QuantCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        x = self.pool(self.relu(self.conv(self.quant(x))))
        return self.dequant(self.fc(torch.flatten(x, 1)))


def static_quantized(engine, name):
    if engine not in torch.backends.quantized.supported_engines:
        raise RuntimeError("this PyTorch has no %s engine" % engine)
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = engine
    try:
        g = seeded()
        m = QuantCnn().eval()
        m.qconfig = torch.ao.quantization.get_default_qconfig(engine)
        torch.ao.quantization.prepare(m, inplace=True)
        for _ in range(4):
            m(image(g, 2))
        torch.ao.quantization.convert(m, inplace=True)
        x = image(g)
        t = torch.jit.trace(m, x)
        t.save(out(name + ".pt"))
        return {"inputs": save_inputs(name, x=x), "reference": expected(name, outputs(t, x)),
                "tolerance": 0.05, "engine": engine}
    finally:
        torch.backends.quantized.engine = previous


@kind("cnn_static_quantized_fbgemm", "eager-mode static quantization for fbgemm (x86 servers), traced")
def _():
    return static_quantized("fbgemm", "cnn_static_quantized_fbgemm")


@kind("cnn_static_quantized_qnnpack", "eager-mode static quantization for qnnpack (ARM, mobile), traced")
def _():
    return static_quantized("qnnpack", "cnn_static_quantized_qnnpack")


class Detector(nn.Module):
    """The tail of a two-stage detector: pooled features per box (roi_align), then non-maximum suppression."""

    def __init__(self):
        super().__init__()
        self.score = nn.Linear(4 * 2 * 2, 1)

    def forward(self, features, boxes):
        rois = torch.cat([torch.zeros(boxes.size(0), 1), boxes], dim=1)
        pooled = torch.ops.torchvision.roi_align(features, rois, 0.25, 2, 2, 2, False)
        scores = torch.sigmoid(self.score(pooled.flatten(1))).squeeze(1)
        keep = torch.ops.torchvision.nms(boxes, scores, 0.5)
        return boxes[keep], scores[keep]


def detection_inputs(g):
    xy = torch.rand(30, 2, generator=g) * 80
    wh = torch.rand(30, 2, generator=g) * 40 + 8
    return torch.randn(1, 4, 32, 32, generator=g), torch.cat([xy, xy + wh], dim=1)


@kind("detection_ops", "a scripted model calling torchvision::roi_align and torchvision::nms")
def _():
    g = seeded()
    features, boxes = detection_inputs(g)
    entry = {"inputs": save_inputs("detection_ops", features=features, boxes=boxes), "needs": "torchvision",
             "tolerance": 1e-4}
    if torchvision is None:
        # The operators' schemas alone, as torchvision registers them, so that the archive calls them by
        # name; with no implementation to compute a reference, the file must at least be explained.
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("roi_align(Tensor input, Tensor rois, float spatial_scale, int pooled_height, "
                   "int pooled_width, int sampling_ratio, bool aligned) -> Tensor")
        torch.jit.script(Detector().eval()).save(out("detection_ops.pt"))
        entry["expect"] = "explained:needs_operator_library"
        return entry
    m = torch.jit.script(Detector().eval())
    m.save(out("detection_ops.pt"))
    entry["reference"] = expected("detection_ops", outputs(m, features, boxes))
    return entry


@kind("fasterrcnn_scripted", "torchvision's Faster R-CNN (MobileNetV3 320 FPN), scripted")
def _():
    if torchvision is None:
        raise RuntimeError("torchvision is not importable beside this PyTorch")
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn
    g = seeded()
    try:
        model = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=3)
    except TypeError:  # torchvision before 0.13
        model = fasterrcnn_mobilenet_v3_large_320_fpn(pretrained=False, pretrained_backbone=False, num_classes=3)
    model.eval()
    m = torch.jit.script(model)
    m.save(out("fasterrcnn_scripted.pt"))
    img = torch.rand(3, 240, 320, generator=g)
    with torch.no_grad():
        result = m([img])
    torch.save([img], out("fasterrcnn_scripted_images.pt"))
    return {"inputs": ["images=fasterrcnn_scripted_images.pt"], "reference": expected("fasterrcnn_scripted", result),
            "needs": "torchvision", "tolerance": 1e-3}


def retarget_storages(src, dst, location):
    """The archive as if saved from `location`: every storage's device rewritten."""
    def rewrite(data):
        result = bytearray()
        ops = list(pickletools.genops(data))
        for n, (op, arg, pos) in enumerate(ops):
            end = ops[n + 1][2] if n + 1 < len(ops) else len(data)
            if op.name == "BINUNICODE" and arg == "cpu":
                enc = location.encode()
                result += b"X" + struct.pack("<I", len(enc)) + enc
            else:
                result += data[pos:end]
        return bytes(result)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith(".pkl") and not info.filename.endswith("debug_pkl"):
                data = rewrite(data)
            zout.writestr(info.filename, data)


@kind("cnn_saved_on_gpu", "a scripted CNN saved from a GPU (storages on cuda:0)")
def _():
    g = seeded()
    x = image(g)
    m = torch.jit.script(trained_cnn())
    m.save(out("cnn_cpu_tmp.pt"))
    retarget_storages(out("cnn_cpu_tmp.pt"), out("cnn_saved_on_gpu.pt"), "cuda:0")
    os.remove(out("cnn_cpu_tmp.pt"))
    return {"inputs": save_inputs("cnn_saved_on_gpu", x=x), "reference": expected("cnn_saved_on_gpu", outputs(m, x))}


@kind("lstm_state_tuple", "a scripted LSTM taking its state as Tuple[Tensor, Tensor]")
def _():
    g = seeded()
    x = torch.randn(6, 1, 8, generator=g)
    h0, c0 = torch.randn(2, 1, 16, generator=g), torch.randn(2, 1, 16, generator=g)
    m = torch.jit.script(Tagger().eval())
    m.save(out("lstm_state_tuple.pt"))
    return {"inputs": save_inputs("lstm_state_tuple", x=x, **{"hc.0": h0, "hc.1": c0}),
            "reference": expected("lstm_state_tuple", outputs(m, x, (h0, c0)))}


class Gru(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 12, batch_first=True, bidirectional=True)

    def forward(self, x, h0):
        y, h = self.gru(x, h0)
        return y, h


@kind("gru_traced", "a traced bidirectional, batch-first GRU with its initial state")
def _():
    g = seeded()
    x, h0 = torch.randn(1, 5, 8, generator=g), torch.randn(2, 1, 12, generator=g)
    m = torch.jit.trace(Gru().eval(), (x, h0))
    m.save(out("gru_traced.pt"))
    return {"inputs": save_inputs("gru_traced", x=x, h0=h0), "reference": expected("gru_traced", outputs(m, x, h0))}


class TinyBert(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        self.position = nn.Embedding(64, 32)
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.classify = nn.Linear(32, 2)

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.size(1)).unsqueeze(0)
        h = self.embed(input_ids) + self.position(positions)
        h = self.encoder(h, src_key_padding_mask=attention_mask == 0)
        return self.classify(h[:, 0])


@kind("bert_like_masks", "a scripted BERT-like encoder taking int64 ids and an attention mask")
def _():
    g = seeded()
    ids = torch.randint(0, 100, (2, 10), generator=g)
    mask = torch.ones(2, 10, dtype=torch.int64)
    mask[1, 7:] = 0
    m = torch.jit.script(TinyBert().eval())
    m.save(out("bert_like_masks.pt"))
    return {"inputs": save_inputs("bert_like_masks", input_ids=ids, attention_mask=mask),
            "reference": expected("bert_like_masks", outputs(m, ids, mask)), "tolerance": 1e-4}


@kind("transformer_traced", "a traced nn.TransformerEncoderLayer (batch first)")
def _():
    g = seeded()
    x = torch.randn(1, 12, 32, generator=g)
    layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True).eval()
    with torch.no_grad():
        m = torch.jit.trace(layer, x)
    m.save(out("transformer_traced.pt"))
    return {"inputs": save_inputs("transformer_traced", src=x), "reference": expected("transformer_traced", outputs(m, x)),
            "tolerance": 1e-4}


class Defaults(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x, scale: float = 2.0, bias: Optional[torch.Tensor] = None):
        y = self.fc(x) * scale
        if bias is not None:
            y = y + bias
        return y


@kind("default_arguments", "forward(x, scale: float = 2.0, bias: Optional[Tensor] = None), scripted")
def _():
    g = seeded()
    x = torch.randn(3, 16, generator=g)
    m = torch.jit.script(Defaults().eval())
    m.save(out("default_arguments.pt"))
    return {"inputs": save_inputs("default_arguments", x=x), "reference": expected("default_arguments", outputs(m, x))}


class Codec(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(16, 4)
        self.dec = nn.Linear(4, 16)

    @torch.jit.export
    def encode(self, x):
        return torch.tanh(self.enc(x))

    @torch.jit.export
    def decode(self, z):
        return self.dec(z)

    def forward(self, x):
        return self.decode(self.encode(x))


@kind("several_methods", "a scripted autoencoder exporting encode and decode beside forward")
def _():
    g = seeded()
    x = torch.randn(2, 16, generator=g)
    m = torch.jit.script(Codec().eval())
    m.save(out("several_methods.pt"))
    return {"inputs": save_inputs("several_methods", x=x), "reference": expected("several_methods", outputs(m, x))}


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 8)
        self.cls = nn.Linear(8, 3)
        self.box = nn.Linear(8, 4)

    def forward(self, x) -> Dict[str, torch.Tensor]:
        h = torch.relu(self.body(x))
        return {"logits": self.cls(h), "boxes": self.box(h)}


@kind("dict_output", "a scripted model returning Dict[str, Tensor]")
def _():
    g = seeded()
    x = torch.randn(2, 16, generator=g)
    m = torch.jit.script(Heads().eval())
    m.save(out("dict_output.pt"))
    return {"inputs": save_inputs("dict_output", x=x), "reference": expected("dict_output", outputs(m, x))}


class Pool(nn.Module):
    def forward(self, xs: List[torch.Tensor]):
        return torch.stack([x.mean(0) for x in xs]).sum(0)


@kind("list_input", "a scripted model taking List[Tensor] (a batch of variable-length items)")
def _():
    g = seeded()
    xs = [torch.randn(n, 4, generator=g) for n in (3, 5, 2)]
    m = torch.jit.script(Pool())
    m.save(out("list_input.pt"))
    torch.save(xs, out("list_input_xs.pt"))
    return {"inputs": ["xs=list_input_xs.pt"], "reference": expected("list_input", outputs(m, xs))}


class Audio(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 8, 64, stride=16)
        self.head = nn.Linear(8, 10)

    def forward(self, wave):
        return self.head(torch.relu(self.conv(wave)).mean(-1))


@kind("conv1d_audio_traced", "a traced Conv1d classifier of one second of 16 kHz audio")
def _():
    g = seeded()
    wave = torch.randn(1, 1, 16000, generator=g)
    m = torch.jit.trace(Audio().eval(), wave)
    m.save(out("conv1d_audio_traced.pt"))
    return {"inputs": save_inputs("conv1d_audio_traced", wave=wave),
            "reference": expected("conv1d_audio_traced", outputs(m, wave)), "tolerance": 1e-4}


class Bag(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(200, 16, mode="mean")
        self.fc = nn.Linear(16, 2)

    def forward(self, ids, offsets):
        return self.fc(self.bag(ids, offsets))


@kind("embedding_bag", "a scripted EmbeddingBag recommender taking int64 ids and offsets")
def _():
    g = seeded()
    ids = torch.randint(0, 200, (12,), generator=g)
    offsets = torch.tensor([0, 5, 9])
    m = torch.jit.script(Bag().eval())
    m.save(out("embedding_bag.pt"))
    return {"inputs": save_inputs("embedding_bag", ids=ids, offsets=offsets),
            "reference": expected("embedding_bag", outputs(m, ids, offsets))}


@kind("half_precision", "a scripted MLP converted with .half()")
def _():
    g = seeded()
    x = torch.randn(2, 16, generator=g).half()
    m = torch.jit.script(Mlp().half().eval())
    reference = outputs(m, x)  # raises where this PyTorch has no float16 matmul on the CPU
    m.save(out("half_precision.pt"))
    return {"inputs": save_inputs("half_precision", x=x), "reference": expected("half_precision", reference),
            "tolerance": 1e-2}


@kind("state_dict", "a state_dict (.pth) loaded into the scripted model it belongs to")
def _():
    g = seeded()
    x = image(g)
    trained = trained_cnn()
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(0.1)
    torch.save(trained.state_dict(), out("state_dict.pth"))
    seeded(5)
    fresh = torch.jit.script(Cnn().eval())
    fresh.save(out("state_dict_model.pt"))
    return {"file": "state_dict_model.pt", "args": ["--state-dict", "state_dict.pth"],
            "inputs": save_inputs("state_dict", x=x), "reference": expected("state_dict", outputs(trained, x))}


@kind("training_checkpoint", "a training checkpoint (epoch, model and optimizer state) loaded into its scripted model")
def _():
    g = seeded()
    x = image(g)
    trained = trained_cnn()
    optimizer = torch.optim.SGD(trained.parameters(), lr=0.1, momentum=0.9)
    trained.train()
    loss = trained(image(g, 4)).sum()
    loss.backward()
    optimizer.step()
    trained.eval()
    torch.save({"epoch": 3, "model_state_dict": trained.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
                "loss": float(loss)}, out("training_checkpoint.pth"))
    seeded(5)
    torch.jit.script(Cnn().eval()).save(out("training_checkpoint_model.pt"))
    return {"file": "training_checkpoint_model.pt", "args": ["--state-dict", "training_checkpoint.pth"],
            "inputs": save_inputs("training_checkpoint", x=x),
            "reference": expected("training_checkpoint", outputs(trained, x))}


@kind("pickled_module", "a whole nn.Module saved with torch.save (pickled Python classes)",
      expect="explained:pickled_module")
def _():
    torch.save(Mlp(), out("pickled_module.pt"))
    return {}


def main():
    warnings.filterwarnings("ignore")
    os.makedirs(OUT, exist_ok=True)
    manifest = {"pytorch": torch.__version__.split("+")[0],
                "torchvision": getattr(torchvision, "__version__", None) if torchvision else None,
                "maker": hashlib.sha256(open(__file__, "rb").read()).hexdigest(), "entries": []}
    for name, what, expect, make in ENTRIES:
        entry = {"name": name, "what": what, "file": name + ".pt", "expect": expect, "inputs": [], "args": []}
        try:
            entry.update(make() or {})
        except Exception as e:  # a kind this PyTorch cannot make
            entry = {"name": name, "what": what, "skipped": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")}
            if os.environ.get("TWB_CORPUS_VERBOSE"):
                traceback.print_exc()
        manifest["entries"].append(entry)
        print("%-30s %s" % (name, entry.get("skipped", entry.get("expect"))))
    with open(out("manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
