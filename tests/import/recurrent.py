"""R2U-Net's recurrent convolution (Alom et al., 2018), as its reference code
writes it: one conv block called t + 1 times on a growing sum, so its weights
are shared across the calls. PyTorch's parameters() counts them once:
Conv2d(16, 16, 3) 2,320 + BatchNorm2d(16) 32 = 2,352 per block, two blocks in
the unit (4,704), plus the 1×1 input conv 3·16 + 16 = 64: 4,768 in all; its
buffers are the two BatchNorms' 2·16 + 1 each: 66.
(tests/import-cli.sh: netshape's table must count the same)"""
from torch import nn


class RecurrentBlock(nn.Module):
    def __init__(self, channels, t=2):
        super().__init__()
        self.t = t
        self.conv = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels),
                                  nn.ReLU(inplace=True))

    def forward(self, x):
        x1 = self.conv(x)
        for _ in range(self.t):
            x1 = self.conv(x + x1)
        return x1


class RRCNN(nn.Module):
    def __init__(self, cin=3, cout=16, t=2):
        super().__init__()
        self.conv_1x1 = nn.Conv2d(cin, cout, 1)
        self.rcnn = nn.Sequential(RecurrentBlock(cout, t), RecurrentBlock(cout, t))

    def forward(self, x):
        x = self.conv_1x1(x)
        return x + self.rcnn(x)
