#!/usr/bin/python3
"""Writes the TorchScript models the prepare tests quantize (random weights, fixed seed).

usage: make_models.py OUT_DIR [name ...]
Every model is saved in eval mode; traced variants use a 1x3x64x64 example (224 is not
needed for structure and keeps the tests fast)."""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    """conv-bn-relu x2, a branch (prim::If when scripted), pooling and a classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 8 * 8, 10)
        self.use_relu = True

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.pool(x)
        x = self.bn2(self.conv2(x))
        if self.use_relu:
            x = F.relu(x)
        else:
            x = torch.sigmoid(x)
        x = self.pool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


class ConcatUpsample(nn.Module):
    """A tiny U-shaped net: concat, nearest upsample, avg/max/adaptive pooling, add."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.down = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.up = nn.Upsample(scale_factor=2.0, mode="nearest")
        self.fuse = nn.Conv2d(16, 8, 1)
        self.avg = nn.AvgPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        s = F.relu(self.stem(x))
        d = F.relu(self.down(s))
        u = self.up(d)
        c = torch.cat([s, u], dim=1)
        f = self.fuse(c) + s
        p = self.avg(f)
        p = F.max_pool2d(p, 2)
        g = torch.flatten(self.gap(p), 1)
        return self.fc(g)


class TransformerBlock(nn.Module):
    """One post-norm encoder block with explicit matmuls (what the NLP backends target)."""

    def __init__(self, d=32, heads=4, ff=64):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, ff)
        self.ff2 = nn.Linear(ff, d)
        self.ln2 = nn.LayerNorm(d)

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads
        q = self.q(x).view(b, t, h, d // h).transpose(1, 2)
        k = self.k(x).view(b, t, h, d // h).transpose(1, 2)
        v = self.v(x).view(b, t, h, d // h).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-2, -1)) / ((d // h) ** 0.5)
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, t, d)
        x = self.ln1(x + self.o(y))
        x = self.ln2(x + self.ff2(F.gelu(self.ff1(x))))
        return x


class OddOps(nn.Module):
    """A conv, an op no rule knows (erfinv) and a linear: the odd op stays float."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 3)

    def forward(self, x):
        y = torch.erfinv(torch.tanh(self.conv(x)) * 0.5)
        return self.fc(torch.flatten(y, 1))


class Mixer(nn.Module):
    """A user block the tests declare a leaf_module: it stays one call, quantized nowhere inside."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        return torch.tanh(self.conv(x)) + x


class Options(nn.Module):
    """For preserve_attr / concrete_args / leaf_module: an int attribute, an exported
    method, a bool forward argument that selects a branch, and a user block."""

    num_classes: int

    def __init__(self):
        super().__init__()
        self.num_classes = 5
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.mixer = Mixer()
        self.fc = nn.Linear(8, 5)

    @torch.jit.export
    def describe(self) -> str:
        return "options model"

    def forward(self, x, use_relu: bool = True):
        y = self.stem(x)
        if use_relu:
            y = F.relu(y)
        else:
            y = torch.sigmoid(y)
        y = self.mixer(y)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


class SigmoidGate(nn.Module):
    """A sigmoid gate (x * sigmoid(conv(x))) and a view head: Sigmoid and Reshape for the
    deploy writers that key records on them (STPU, range propagation)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.gate = nn.Conv2d(8, 8, 1)
        self.fc = nn.Linear(8 * 4 * 4, 4)

    def forward(self, x):
        y = F.relu(self.conv(x))
        y = y * torch.sigmoid(self.gate(y))
        y = F.max_pool2d(y, 2)
        return self.fc(y.view(y.size(0), -1))


class Identity(nn.Module):
    def forward(self, x):
        return x


def build(name):
    torch.manual_seed(0)
    if name.startswith("resnet18") or name.startswith("mobilenet_v2"):
        import torchvision
        arch = "resnet18" if name.startswith("resnet18") else "mobilenet_v2"
        m = getattr(torchvision.models, arch)(num_classes=10)
        example = torch.randn(1, 3, 64, 64)
    elif name.startswith("small_cnn"):
        m, example = SmallCNN(), torch.randn(1, 3, 32, 32)
    elif name.startswith("concat_upsample"):
        m, example = ConcatUpsample(), torch.randn(1, 3, 32, 32)
    elif name.startswith("odd_ops"):
        m, example = OddOps(), torch.randn(1, 3, 8, 8)
    elif name.startswith("options"):
        m, example = Options(), torch.randn(1, 3, 16, 16)
    elif name.startswith("sigmoid_gate"):
        m, example = SigmoidGate(), torch.randn(1, 3, 8, 8)
    elif name.startswith("identity"):
        m, example = Identity(), torch.randn(1, 3)
    elif name.startswith("transformer"):
        m, example = TransformerBlock(), torch.randn(2, 8, 32)
    else:
        raise SystemExit("unknown model " + name)
    # Random BN statistics, so folding BN is not a no-op. Kept mild (+-20%) on the deep
    # torchvision nets: a wide per-channel spread in an untrained 20-layer net is what
    # per-tensor weight schemes cannot represent, and trained nets do not look like that.
    spread = 0.2 if name.startswith(("resnet18", "mobilenet_v2")) else 0.5
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.1, 0.1)
            mod.running_var.uniform_(1 - spread, 1 + spread)
            mod.weight.data.uniform_(1 - spread, 1 + spread)
            mod.bias.data.uniform_(-0.1, 0.1)
    m.eval()
    if name.endswith("_traced"):
        return torch.jit.trace(m, example)
    return torch.jit.script(m)


ALL = ["resnet18_scripted", "resnet18_traced", "mobilenet_v2_scripted", "mobilenet_v2_traced",
       "small_cnn_scripted", "small_cnn_traced", "concat_upsample_scripted",
       "concat_upsample_traced", "transformer_scripted", "transformer_traced",
       "odd_ops_scripted", "identity_scripted", "options_scripted", "sigmoid_gate_scripted"]

if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    for name in (sys.argv[2:] or ALL):
        path = os.path.join(out, name + ".pt")
        if not os.path.exists(path):
            tmp = "%s.%d.tmp" % (path, os.getpid())
            build(name).save(tmp)
            os.replace(tmp, path)  # atomic: parallel test processes never see half a file
