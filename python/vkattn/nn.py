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
