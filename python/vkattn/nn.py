"""PyTorch modules for what vkattn runs that torch.nn has no module for; vkattn.export writes them.

AttentionCrop is hard attention (AG-CNN, Guan et al. 2018): the attention each position of a
feature map receives picks a box of the input image, which is cut out and resized, and the layers
after it run on that crop (a glimpse network). A forward calls it with the model's input, an
attention layer's (B, N, N) map and that layer's grid:

    h = self.features(x)
    h, attention = self.attn(h)                  # an attention block returning its map
    glimpse = self.crop(x, attention, h.shape[2:])
    return self.head(glimpse)

vkattn.export writes it as {"type": "attention_crop", "attention": <the block>, ...}.

LocalSelfAttention is stand-alone local self-attention (SASA, Ramachandran et al. 2019): each
position attends to the k x k window around it with learned relative embeddings; vkattn.export
writes it as {"type": "local_self_attention", ...}, its map too when the forward returns it.
"""
import torch
from torch import nn
from torch.nn import functional as F


def attention_boxes(attention, grid, image_size, threshold):
    """Per item, the pixel box (B, 4) as top, left, bottom, right (ends exclusive) of an image of
    image_size (H, W): the smallest box of the grid's cells whose received attention (the map's
    column mean) is >= threshold * its maximum, cell rows r0..r1 becoming pixel rows
    floor(r0 H / h) to ceil((r1 + 1) H / h), columns alike."""
    h, w = (int(v) for v in grid)
    H, W = (int(v) for v in image_size)
    if attention.dim() != 3 or attention.shape[1] != attention.shape[2] or attention.shape[2] != h * w:
        raise ValueError("AttentionCrop: the map must be (B, %d, %d) for a %dx%d grid, not %s"
                         % (h * w, h * w, h, w, tuple(attention.shape)))
    received = attention.mean(1)
    keep = (received >= threshold * received.max(1, keepdim=True).values).reshape(-1, h, w)
    boxes = []
    for item in keep:
        rows, cols = torch.nonzero(item.any(1)).flatten(), torch.nonzero(item.any(0)).flatten()
        if len(rows) == 0:  # a map holding NaN: the whole image, as the engine does
            r0, r1, c0, c1 = 0, h - 1, 0, w - 1
        else:
            r0, r1, c0, c1 = int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())
        boxes.append([r0 * H // h, c0 * W // w, -(-(r1 + 1) * H // h), -(-(c1 + 1) * W // w)])
    return torch.tensor(boxes, dtype=torch.long).reshape(-1, 4)


class AttentionCrop(nn.Module):
    """Hard attention: forward(image (B, C, H, W), attention (B, N, N), grid (h, w) with h w = N)
    -> (B, C, size[0], size[1]), each item's attention box of the image resized bilinearly as
    F.interpolate(..., mode="bilinear", align_corners=False). threshold in [0, 1]."""

    def __init__(self, threshold, size):
        super().__init__()
        if not 0 <= threshold <= 1:
            raise ValueError("AttentionCrop: the threshold must lie in [0, 1], not %s" % threshold)
        self.threshold = float(threshold)
        self.size = (int(size), int(size)) if isinstance(size, int) else tuple(int(s) for s in size)
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError("AttentionCrop: the size must be (height, width) of at least 1, not %s" % (size,))

    def forward(self, image, attention, grid):
        boxes = attention_boxes(attention, grid, image.shape[2:], self.threshold)
        return torch.cat([F.interpolate(image[b:b + 1, :, top:bottom, left:right], size=self.size, mode="bilinear",
                                        align_corners=False)
                          for b, (top, left, bottom, right) in enumerate(boxes.tolist())])

    def extra_repr(self):
        return "threshold=%g, size=%s" % (self.threshold, self.size)


class LocalSelfAttention(nn.Module):
    """Stand-alone local self-attention (SASA): (B, in_channels, H, W) -> (B, out_channels, H, W).

    q, k and v are 1x1 convolutions without bias (query, key, value), split into `heads` groups of
    d = out_channels / heads channels. Per head and position, with r(a, b) = concat(rel_h[:, a],
    rel_w[:, b]) (rel_h and rel_w (d / 2, kernel_size), shared by the heads):

        y_ij = sum_(a,b) softmax_(a,b)(q_ij . (k_(i+a-k//2, j+b-k//2) + r(a, b))) v_(i+a-k//2, j+b-k//2)

    over the window's positions inside the image only (the others are left out of the softmax, not
    zero padded), with no scaling. forward(x, need_weights=True) returns (y, map), the map (B, heads,
    H W, k k) holding each position's window weights at a k + b, 0 outside the image. stride 1 only;
    kernel_size odd; d even.
    """

    def __init__(self, in_channels, out_channels, kernel_size, heads=1, stride=1):
        super().__init__()
        if stride != 1:
            raise ValueError("LocalSelfAttention: only stride 1 is supported, not %s" % (stride,))
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError("LocalSelfAttention: the kernel size must be odd, not %s" % (kernel_size,))
        if heads < 1 or out_channels % heads or (out_channels // heads) % 2:
            raise ValueError("LocalSelfAttention: %s heads must divide %s channels into heads of an even size"
                             % (heads, out_channels))
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.heads = kernel_size, heads
        d = out_channels // heads
        self.query = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.key = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.value = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.rel_h = nn.Parameter(torch.randn(d // 2, kernel_size))
        self.rel_w = nn.Parameter(torch.randn(d // 2, kernel_size))
        for conv in (self.query, self.key, self.value):  # as the paper's implementations do
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x, need_weights=False):
        b, _, height, width = x.shape
        k, h, d, n = self.kernel_size, self.heads, self.out_channels // self.heads, height * width

        def windows(t):  # (B, h, d, k k, N): each position's window, entry a k + b, zeros outside
            return F.unfold(t, k, padding=k // 2).reshape(b, h, d, k * k, n)
        q = self.query(x).reshape(b, h, d, n)
        key, value = windows(self.key(x)), windows(self.value(x))
        rel = torch.cat([self.rel_h[:, :, None].expand(-1, -1, k), self.rel_w[:, None, :].expand(-1, k, -1)])
        scores = torch.einsum("bhdn,bhdkn->bhnk", q, key + rel.reshape(1, 1, d, k * k, 1))
        # Positions outside the image take no part in the softmax.
        inside = F.unfold(x.new_ones(1, 1, height, width), k, padding=k // 2).reshape(1, 1, k * k, n)
        scores = scores.masked_fill(inside.transpose(2, 3) == 0, float("-inf"))
        weights = scores.softmax(-1)
        y = torch.einsum("bhnk,bhdkn->bhdn", weights, value).reshape(b, self.out_channels, height, width)
        return (y, weights) if need_weights else y

    def extra_repr(self):
        return "%d, %d, kernel_size=%d, heads=%d" % (self.in_channels, self.out_channels, self.kernel_size, self.heads)
