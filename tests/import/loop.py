"""Layers held in an nn.ModuleList and walked in a loop, an activation called
between them as a function: named_modules() names them `layers.0`,
`layers.1`, `layers.2`, and so must the imported spec. It also prints while
it loads and while it runs forward(): that text goes to standard error, never
into the spec. (tests/import-cli.sh)"""
import torch.nn.functional as F
from torch import nn

print("loop.py: loading")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        print("forward() prints too")
        for layer in self.layers:
            x = F.relu(layer(x))
        return self.head(x)
