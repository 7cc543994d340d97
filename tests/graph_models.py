"""The networks of the graphs issue as people write them, for graph_parity.py and the full-size
script: torchvision's CNN families, a SAGAN generator and discriminator as the SAGAN repository
writes them, an SE-ResNet with a self-attention block, and an AG-CNN (seed 004: a global branch
whose attention picks a crop, a local branch on the crop, a fusion of both)."""
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import vkattn


class Self_Attn(nn.Module):  # noqa: N801 - as the SAGAN repository names it
    """The SAGAN repository's block: forward returns (out, attention)."""

    def __init__(self, in_dim, activation="relu"):
        super().__init__()
        self.chanel_in, self.activation = in_dim, activation
        self.query_conv = nn.Conv2d(in_dim, in_dim // 8, kernel_size=1)
        self.key_conv = nn.Conv2d(in_dim, in_dim // 8, kernel_size=1)
        self.value_conv = nn.Conv2d(in_dim, in_dim, kernel_size=1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        m_batchsize, C, width, height = x.size()
        proj_query = self.query_conv(x).view(m_batchsize, -1, width * height).permute(0, 2, 1)
        proj_key = self.key_conv(x).view(m_batchsize, -1, width * height)
        attention = self.softmax(torch.bmm(proj_query, proj_key))
        proj_value = self.value_conv(x).view(m_batchsize, -1, width * height)
        out = torch.bmm(proj_value, attention.permute(0, 2, 1)).view(m_batchsize, C, width, height)
        return self.gamma * out + x, attention


SN = nn.utils.spectral_norm


class SaganGenerator(nn.Module):
    """The SAGAN repository's generator (z -> 64x64 picture) with conv_dim a parameter: spectral-norm
    ConvTranspose2d, BatchNorm, ReLU, self-attention at 16x16 and 32x32, Tanh."""

    def __init__(self, image_size=64, z_dim=32, conv_dim=16):
        super().__init__()
        repeat_num = int(np.log2(image_size)) - 3
        mult = 2 ** repeat_num
        self.l1 = nn.Sequential(SN(nn.ConvTranspose2d(z_dim, conv_dim * mult, 4)), nn.BatchNorm2d(conv_dim * mult),
                                nn.ReLU())
        curr = conv_dim * mult
        blocks = []
        for _ in range(3):
            blocks.append(nn.Sequential(SN(nn.ConvTranspose2d(curr, curr // 2, 4, 2, 1)), nn.BatchNorm2d(curr // 2),
                                        nn.ReLU()))
            curr //= 2
        self.l2, self.l3, self.l4 = blocks
        self.last = nn.Sequential(nn.ConvTranspose2d(curr, 3, 4, 2, 1), nn.Tanh())
        self.attn1 = Self_Attn(conv_dim * 2)
        self.attn2 = Self_Attn(conv_dim)

    def forward(self, z):
        z = z.view(z.size(0), z.size(1), 1, 1)
        out = self.l3(self.l2(self.l1(z)))
        out, p1 = self.attn1(out)
        out = self.l4(out)
        out, p2 = self.attn2(out)
        return self.last(out), p1, p2


class SaganDiscriminator(nn.Module):
    """The SAGAN repository's discriminator for 64x64 pictures: spectral-norm Conv2d (`sn`: any of
    PyTorch's or the repository's wrapper), LeakyReLU(0.1), self-attention after l3 and l4, layers
    registered l1..l4, last, attn1, attn2 but run l1, l2, l3, attn1, l4, attn2, last."""

    def __init__(self, conv_dim=16, sn=SN):
        super().__init__()
        layers, dim = [], 3
        for i in range(4):
            layers.append(nn.Sequential(sn(nn.Conv2d(dim, conv_dim * 2 ** i, 4, 2, 1)), nn.LeakyReLU(0.1)))
            dim = conv_dim * 2 ** i
        self.l1, self.l2, self.l3, self.l4 = layers
        self.last = nn.Sequential(nn.Conv2d(dim, 1, 4))
        self.attn1 = Self_Attn(conv_dim * 4)
        self.attn2 = Self_Attn(conv_dim * 8)

    def forward(self, x):
        out = self.l3(self.l2(self.l1(x)))
        out, p1 = self.attn1(out)
        out = self.l4(out)
        out, p2 = self.attn2(out)
        return self.last(out).squeeze(), p1, p2


class SEBasicBlock(nn.Module):
    """A ResNet basic block with squeeze-and-excitation before the residual sum (Hu et al.)."""

    def __init__(self, cin, cout, stride=1, reduction=4):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cout, cout // reduction, 1), nn.ReLU(inplace=True),
                                nn.Conv2d(cout // reduction, cout, 1), nn.Sigmoid())
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        out = out * self.se(out)
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class SEResNetAttention(nn.Module):
    """An SE-ResNet with a SAGAN self-attention block after its second stage."""

    def __init__(self, classes=10, width=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.stage1 = nn.Sequential(SEBasicBlock(width, width), SEBasicBlock(width, width))
        self.stage2 = nn.Sequential(SEBasicBlock(width, 2 * width, 2), SEBasicBlock(2 * width, 2 * width))
        self.attention = Self_Attn(2 * width)
        self.stage3 = nn.Sequential(SEBasicBlock(2 * width, 4 * width, 2))
        self.fc = nn.Linear(4 * width, classes)

    def forward(self, x):
        x = self.stage2(self.stage1(self.stem(x)))
        x, _ = self.attention(x)
        x = self.stage3(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def _backbone(width):
    """A small ResNet-style backbone: stem, two residual stages."""
    return nn.Sequential(
        nn.Conv2d(3, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1),
        SEBasicBlock(width, width), SEBasicBlock(width, 2 * width, 2))


class AGCNN(nn.Module):
    """Seed 004's attention-guided CNN: the global branch's attention map (a self-attention block on
    its features) picks a box of the image (vkattn.nn.AttentionCrop); the local branch runs on the
    crop; the fusion branch concatenates both branches' pooled features. Returns the three
    branches' logits (fusion first) and the global attention map."""

    def __init__(self, classes=5, width=16, crop=48, threshold=0.7):
        super().__init__()
        self.global_features = _backbone(width)
        self.global_attention = Self_Attn(2 * width)
        self.crop = vkattn.nn.AttentionCrop(threshold, crop)
        self.local_features = _backbone(width)
        self.global_fc = nn.Linear(2 * width, classes)
        self.local_fc = nn.Linear(2 * width, classes)
        self.fusion_fc = nn.Linear(4 * width, classes)

    def forward(self, x):
        g = self.global_features(x)
        g, attention = self.global_attention(g)
        glimpse = self.crop(x, attention, g.shape[2:])
        local = self.local_features(glimpse)
        g_pooled = g.mean((2, 3))
        l_pooled = torch.flatten(F.adaptive_avg_pool2d(local, 1), 1)
        fused = self.fusion_fc(torch.cat([g_pooled, l_pooled], dim=1))
        return fused, self.global_fc(g_pooled), self.local_fc(l_pooled), attention


class ECA(nn.Module):
    """Efficient channel attention (Wang et al., ECA-Net, 2020) as its authors write it: the
    channels' means, a 1-D convolution across channels, a sigmoid gate expanded over the picture."""

    def __init__(self, k=3):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv1d(1, 1, kernel_size=k, padding=(k - 1) // 2, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        y = self.avg_pool(x)
        y = self.conv(y.squeeze(-1).transpose(-1, -2)).transpose(-1, -2).unsqueeze(-1)
        return x * self.sigmoid(y).expand_as(x)


class ECANet(nn.Module):
    """A small CNN with ECA blocks and a head of 1-D pools over the pooled channels."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.eca1, self.conv, self.eca2 = ECA(3), nn.Conv2d(16, 24, 3, stride=2, padding=1), ECA(5)
        self.pool1d, self.avg1d = nn.MaxPool1d(2), nn.AvgPool1d(3, stride=1, padding=1)
        self.mix = nn.Conv1d(1, 2, 3, padding=1, dilation=1)
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        x = self.eca2(torch.relu(self.conv(self.eca1(self.stem(x)))))
        f = F.adaptive_avg_pool2d(x, 1).flatten(1).unsqueeze(1)  # (B, 1, 24)
        f = self.mix(self.avg1d(self.pool1d(f)))                  # (B, 2, 12)
        return self.fc(f.flatten(1))


class MathFunctions(nn.Module):
    """The elementwise math functions between convolutions: floor, ceil and round of exactly
    computed values (x times a power of 2), exp, log, abs, erf, softplus (beta 2), mish, softsign,
    pow, and elementwise minimum and maximum of two computed values."""

    def __init__(self, channels=4):
        super().__init__()
        self.a, self.b = nn.Conv2d(channels, channels, 3, padding=1), nn.Conv2d(channels, channels, 1)
        self.softplus, self.mish, self.softsign = nn.Softplus(beta=2), nn.Mish(), nn.Softsign()

    def forward(self, x):
        steps = torch.floor(x * 4) + torch.ceil(x * 2) - torch.round(x * 8) / 8
        y = self.a(x + steps / 4)
        y = torch.exp(-y.abs()) + torch.log(y.abs() + 0.5) + torch.erf(y) + F.softplus(y) + self.softplus(y)
        y = self.mish(y) + self.softsign(y) + x.abs().pow(1.5) + y ** 2
        return self.b(torch.maximum(y, x) - torch.minimum(y, -x) + torch.max(y, x * 0.5))


def randomise(model, seed=0, shape=None):
    """Random weights as export sees them in eval mode: spectral norm's power iteration run as
    training runs it (3 train-mode passes on inputs of `shape`; fresh vectors would leave the
    weights scaled by a poor estimate, and scores ~1e10 that no float32 engine reproduces),
    BatchNorm with non-trivial statistics, attention gammas away from 0 (SAGAN starts them at 0,
    which would hide the block)."""
    generator = torch.Generator().manual_seed(seed)
    if shape is not None and any(hasattr(m, "weight_u") for m in model.modules()):
        model.train()
        with torch.no_grad():
            for _ in range(3):
                model(torch.randn((2,) + tuple(shape), generator=generator))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("gamma"):
                p.fill_(0.7)
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=generator) - 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) * 1.5 + 0.5)
                if m.weight is not None:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=generator) + 0.5)
                    m.bias.copy_(torch.rand(m.bias.shape, generator=generator) - 0.5)
    return model.eval()


# torchvision's families: (name, constructor keyword arguments). Each is run at a small size in
# ctest and at 224x224 (299 for Inception) by scripts/graph-parity.sh.
TORCHVISION = [
    ("resnet18", {}), ("resnet50", {}), ("resnext50_32x4d", {}), ("wide_resnet50_2", {}),
    ("mobilenet_v2", {}), ("mobilenet_v3_small", {}), ("mobilenet_v3_large", {}),
    ("efficientnet_b0", {}), ("efficientnet_b1", {}),
    ("squeezenet1_0", {}), ("squeezenet1_1", {}),
    ("densenet121", {}),
    ("googlenet", {"aux_logits": False, "init_weights": False}),
    ("inception_v3", {"aux_logits": False, "init_weights": False}),
    ("shufflenet_v2_x0_5", {}), ("shufflenet_v2_x1_0", {}),
    ("regnet_y_400mf", {}), ("regnet_x_400mf", {}),
    ("mnasnet0_5", {}), ("mnasnet1_0", {}),
    ("alexnet", {}), ("vgg11_bn", {}),
]


def torchvision_model(name, kwargs, classes=10):
    import torchvision
    return getattr(torchvision.models, name)(weights=None, num_classes=classes, **kwargs)
