"""Imported as a module path (pkg.model:Net) from tests/import: `-o
pkg/model.py` names this very file and must be refused before anything is
written. (tests/import-cli.sh)"""
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
