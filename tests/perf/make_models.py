#!/usr/bin/env python3
"""Exports the benchmark models into the folder given as the first argument, traced the
way users export them, with random weights: a small MLP (10 -> 20 -> 10), resnet18 and
mobilenet_v2; or, with --resnet50, resnet50 alone. torchvision's definitions are used where torchvision imports; otherwise the
same architectures written out here (the PyTorch 2.13 CPU wheel has no torchvision beside
it). Run with the project's venv: .venv/bin/python tests/perf/make_models.py OUT"""
import os
import sys

import torch
import torch.nn as nn


def downsample(cin, cout, stride):
    if stride == 1 and cin == cout:
        return None
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = downsample(cin, width, stride)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample(cin, width * 4, stride)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):
    """torchvision's ResNet: resnet18 is ResNet(BasicBlock, [2, 2, 2, 2]), resnet50 ResNet(Bottleneck, [3, 4, 6, 3])."""

    def __init__(self, block, counts, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, cin = [], 64
        for width, count, stride in zip([64, 128, 256, 512], counts, [1, 2, 2, 2]):
            blocks = []
            for i in range(count):
                blocks.append(block(cin, width, stride if i == 0 else 1))
                cin = width * block.expansion
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def conv_bn(cin, cout, k, stride, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = [conv_bn(cin, hidden, 1, 1)] if expand != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                    (6, 320, 1, 1)]
        layers, cin = [conv_bn(3, 32, 3, 2)], 32
        for t, c, n, s in settings:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(conv_bn(cin, 1280, 1, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


def architectures():
    try:
        import torchvision
        return torchvision.models.resnet18(), torchvision.models.mobilenet_v2(), "torchvision"
    except Exception:  # noqa: BLE001 - any failure to import means: use our own definitions
        return ResNet(BasicBlock, [2, 2, 2, 2]), MobileNetV2(), "the definitions in make_models.py"


def resnet50():
    try:
        import torchvision
        return torchvision.models.resnet50()
    except Exception:  # noqa: BLE001 - as above
        return ResNet(Bottleneck, [3, 4, 6, 3])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    if "--resnet50" in sys.argv[2:]:  # the divergence benchmark's big model, alone
        torch.jit.trace(resnet50().eval(), torch.randn(1, 3, 224, 224)).save(os.path.join(out, "resnet50.pt"))
        print("wrote resnet50.pt to", out)
        return
    mlp = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 10)).eval()
    torch.jit.trace(mlp, torch.randn(1, 10)).save(os.path.join(out, "mlp.pt"))
    resnet, mobilenet, source = architectures()
    torch.jit.trace(resnet.eval(), torch.randn(1, 3, 224, 224)).save(os.path.join(out, "resnet18.pt"))
    torch.jit.trace(mobilenet.eval(), torch.randn(1, 3, 224, 224)).save(os.path.join(out, "mobilenet_v2.pt"))
    print(f"wrote mlp.pt, resnet18.pt and mobilenet_v2.pt ({source}, torch {torch.__version__}) to {out}")


if __name__ == "__main__":
    main()
