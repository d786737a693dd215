"""A model torch.fx cannot trace: its forward() branches on a tensor's value.
`netshape import` says which module and which line (tests/golden/import-control-flow)."""
from torch import nn


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        if x.sum() > 0:
            return self.conv(x)
        return x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = Gate()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.gate(x).mean((2, 3)))
