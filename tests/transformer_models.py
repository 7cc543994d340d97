"""The networks of the transformers issue, for transformer_parity.py and the full-size script:
torchvision's VisionTransformer, ConvNeXt and Swin in small configurations (the full ones by
name), and attention as people write it by hand: nn.MultiheadAttention sequence-first with
masks, and softmax(q @ k^T * scale + bias) @ v with a learned relative position bias."""
import math

import torch
from torch import nn
from torch.nn import functional as F


def randomise(model, seed=0):
    """Weights that make every part of a transformer count: torchvision starts the class head at
    zero, ConvNeXt's layer scale at 1e-6 and the position tables near zero, which would hide
    whole blocks from a parity check."""
    generator = torch.Generator().manual_seed(seed)

    def randn(shape, scale):
        return torch.randn(shape, generator=generator) * scale

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layer_scale"):
                p.copy_(torch.rand(p.shape, generator=generator) * 0.5 + 0.25)
            elif "class_token" in name or "pos_embedding" in name or "relative_position_bias_table" in name \
                    or name.endswith("logit_scale"):
                p.copy_(randn(p.shape, 0.5))
            elif p.dim() == 1:  # norm scales around 1, biases around 0
                p.copy_(1 + randn(p.shape, 0.2) if name.endswith("weight") else randn(p.shape, 0.1))
            elif bool((p == 0).all()):
                p.copy_(randn(p.shape, 1 / math.sqrt(p[0].numel())))
    return model.eval()


class MaskedTokens(nn.Module):
    """Tokens from a convolution, sequence first (N, B, C), through nn.MultiheadAttention with a
    causal boolean attn_mask and a constant key padding mask, then a pooled head."""

    def __init__(self, channels=16, heads=4, grid=4):
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 4, stride=4)
        self.attention = nn.MultiheadAttention(channels, heads)
        self.norm = nn.LayerNorm(channels)
        self.head = nn.Linear(channels, 10)
        n = grid * grid
        self.register_buffer("causal", torch.ones(n, n, dtype=torch.bool).triu(1))
        self.register_buffer("padding", torch.zeros(1, n, dtype=torch.bool))
        self.padding[0, -3:] = True

    def forward(self, x):
        tokens = self.stem(x).flatten(2).permute(2, 0, 1)  # (N, B, C)
        padding = self.padding.expand(x.shape[0], -1)
        y, weights = self.attention(tokens, tokens, tokens, attn_mask=self.causal, key_padding_mask=padding)
        y = self.norm(y + tokens)
        return self.head(y.mean(0)), weights


class RelativeAttention(nn.Module):
    """Hand-written multi-head attention over a feature map's positions with a learned relative
    position bias, as research code writes it: one qkv linear layer, chunk, the heads split by
    view and transpose, softmax(q @ k^T * scale + bias) @ v."""

    def __init__(self, channels=24, heads=3, grid=6):
        super().__init__()
        self.heads, self.grid = heads, grid
        self.stem = nn.Conv2d(3, channels, 3, padding=1)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)
        self.table = nn.Parameter(torch.randn(heads, (2 * grid - 1) ** 2) * 0.5)
        coords = torch.stack(torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")).flatten(1)
        relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + grid - 1
        self.register_buffer("index", relative[..., 0] * (2 * grid - 1) + relative[..., 1])
        self.head = nn.Linear(channels, 10)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(F.gelu(self.stem(x)), self.grid)
        b, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)  # (B, N, C)
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)
        q, k, v = (t.view(b, h * w, self.heads, c // self.heads).transpose(1, 2) for t in (q, k, v))
        bias = self.table[:, self.index]  # (heads, N, N)
        attn = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.heads) + bias
        attn = attn.softmax(dim=-1)
        y = (attn @ v).transpose(1, 2).reshape(b, h * w, c)
        y = tokens + self.proj(y)
        return self.head(y.mean(1))


class SequenceFirstAttention(nn.Module):
    """Attention written by hand on (N, B, C) tokens as older transformer code does: the heads
    merged with the batch by view(N, B * h, d).transpose(0, 1), torch.bmm, softmax, torch.bmm."""

    def __init__(self, channels=16, heads=4):
        super().__init__()
        self.heads = heads
        self.stem = nn.Conv2d(3, channels, 4, stride=4)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = nn.Linear(channels, 10)

    def forward(self, x):
        t = self.stem(x).flatten(2).permute(2, 0, 1)
        n, b, c = t.shape
        d = c // self.heads
        q, k, v = (u.contiguous().view(n, b * self.heads, d).transpose(0, 1) for u in self.qkv(t).chunk(3, dim=-1))
        a = torch.bmm(q * d ** -0.5, k.transpose(1, 2)).softmax(-1)
        y = torch.bmm(a, v).transpose(0, 1).contiguous().view(n, b, c)
        return self.out(y.mean(0))


class EinsumForms(nn.Module):
    """Attention written with torch.einsum (capital indices and spaces, as MaxViT writes them), then
    einsum's other two-operand forms: a constant operand first, an output in another order, a
    product summing every index but the batch, and one operand permuted; torch.swapaxes."""

    def __init__(self):
        super().__init__()
        self.stem, self.qkv = nn.Conv2d(3, 12, 4, stride=4), nn.Linear(12, 36)
        self.mix = nn.Parameter(torch.randn(12, 5) * 0.3)

    def forward(self, x):
        t = self.stem(x).flatten(2).transpose(1, 2)  # (B, N, 12)
        b, n, c = t.shape
        q, k, v = (u.reshape(b, n, 3, 4).permute(0, 2, 1, 3) for u in self.qkv(t).chunk(3, dim=-1))
        a = torch.einsum("B H I D, B H J D -> B H I J", q, k * 0.5).softmax(-1)
        y = torch.einsum("B H I J, B H J D -> B H I D", a, v).permute(0, 2, 1, 3).reshape(b, n, c)
        mixed = torch.einsum("ce,bnc->ebn", self.mix, y)                 # (5, B, N)
        score = torch.einsum("bnc,bnc->b", y, t).unsqueeze(1)           # (B, 1)
        swapped = torch.einsum("bnc->bcn", torch.swapaxes(t, axis0=1, axis1=2))  # (B, N, 12) again
        return mixed.permute(1, 0, 2).mean(-1) + score * 0.01 + swapped.mean(1)[:, :5]


def small(name):
    """(module, input shape) of a small configuration of a torchvision transformer family."""
    from torchvision.models import ConvNeXt, SwinTransformer, VisionTransformer
    from torchvision.models.convnext import CNBlockConfig
    if name == "vit":
        return VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=32, mlp_dim=64,
                                 num_classes=10), (3, 32, 32)
    if name == "vit_odd":  # heads of 12 channels, a representation layer, one layer, 5x5 patches
        return VisionTransformer(image_size=25, patch_size=5, num_layers=1, num_heads=3, hidden_dim=36, mlp_dim=50,
                                 representation_size=20, num_classes=7), (3, 25, 25)
    if name == "convnext":
        return ConvNeXt([CNBlockConfig(16, 32, 2), CNBlockConfig(32, None, 1)], stochastic_depth_prob=0.1,
                        num_classes=10), (3, 32, 32)
    if name == "swin":  # 8x8 tokens in 4x4 windows, shifted by 2; then one window
        return SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4],
                               num_classes=10), (3, 32, 32)
    if name == "swin_padded":  # 10x10 tokens padded to 12x12 for 4x4 windows
        return SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2], num_heads=[2], window_size=[4, 4],
                               num_classes=10), (3, 40, 40)
    if name == "swin_v2":  # cosine attention with a logit scale per head, a continuous position bias MLP
        from torchvision.models.swin_transformer import PatchMergingV2, SwinTransformerBlockV2
        return SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4],
                               num_classes=10, block=SwinTransformerBlockV2, downsample_layer=PatchMergingV2), (3, 32, 32)
    if name == "maxvit":  # MBConv, then attention in 4x4 blocks and over a 4x4 grid, twice
        from torchvision.models import MaxVit
        return MaxVit(input_size=(32, 32), stem_channels=16, partition_size=4, block_channels=[16, 32],
                      block_layers=[1, 1], head_dim=8, stochastic_depth_prob=0.0, num_classes=10), (3, 32, 32)
    if name == "einsum_forms":
        return EinsumForms(), (3, 16, 16)
    if name == "masked_tokens":
        return MaskedTokens(), (3, 16, 16)
    if name == "sequence_first_attention":
        return SequenceFirstAttention(), (3, 16, 16)
    if name == "relative_attention":
        return RelativeAttention(), (3, 12, 12)
    raise ValueError(name)


SMALL = ["vit", "vit_odd", "convnext", "swin", "swin_padded", "swin_v2", "masked_tokens", "relative_attention",
         "sequence_first_attention", "maxvit", "einsum_forms"]
FULL = [("vit_b_16", (3, 224, 224)), ("convnext_tiny", (3, 224, 224)), ("swin_t", (3, 224, 224)),
        ("swin_v2_t", (3, 224, 224)), ("maxvit_t", (3, 224, 224))]


def full(name):
    import torchvision
    return getattr(torchvision.models, name)(weights=None, num_classes=10)
