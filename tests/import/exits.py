"""A model file whose script part is not guarded by `if __name__ ==
"__main__":`, and ends the process while it loads. (tests/import-cli.sh)"""
import sys

from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


sys.exit(0)
