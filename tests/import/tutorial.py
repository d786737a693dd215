"""Models as tutorials write them, with the tensor methods people use in
forward(): tests/import_test.py imports each and compares it with PyTorch."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    """The CIFAR-10 tutorial's network (pytorch.org/tutorials, "Training a Classifier")."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class PatchTokens(nn.Module):
    """A ViT-style patch embedding, with ConvNeXt's channels-last LayerNorm between two permutes."""

    def __init__(self, dim=96, patch=16):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, patch)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.proj(x).permute(0, 2, 3, 1)
        x = self.norm(x)
        x = x.permute(0, 3, 1, 2).flatten(2).transpose(1, 2)
        x = self.head(x)
        return x.reshape(x.shape[0], -1)


class TokenHead(nn.Module):
    """A ViT-style head: tokens, the first one's features (x[:, 0]), and squeeze / unsqueeze / mean / sum."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, 32, 8, 8)
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)
        first = x[:, 0]
        pooled = x.mean(1)
        y = self.fc(first + pooled).unsqueeze(-1)
        return y.sum(-1, keepdim=True).squeeze(2).amax(1)


class TextCNN(nn.Module):
    """A text classifier as the tutorials write it: token indices, an Embedding, a Conv1d over the sequence."""

    def __init__(self, vocab=1000, dim=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, 16, 3)
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        x = self.emb(x).transpose(1, 2)
        x = torch.relu(self.conv(x))
        return self.fc(x.mean(2))


class Scores(nn.Module):
    """Attention's scores by hand: q @ k.transpose(-2, -1), softmax over the keys, times v."""

    def __init__(self, dim=16):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)

    def forward(self, x):
        att = torch.softmax(self.q(x) @ self.k(x).transpose(-2, -1), dim=-1)
        return torch.matmul(att, self.v(x))


class SEBlock(nn.Module):
    """A squeeze-and-excitation block as SENet implementations write it (b, c, _, _ = x.size(), then
    view(b, c) and view(b, c, 1, 1)), after a conv."""

    def __init__(self, channels=32, reduction=8):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction, bias=False), nn.ReLU(inplace=True),
                                nn.Linear(channels // reduction, channels, bias=False), nn.Sigmoid())

    def forward(self, x):
        x = self.conv(x)
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)


class LambdaLayer(nn.Module):
    def __init__(self, lambd):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return self.lambd(x)


class OptionABlock(nn.Module):
    """The CIFAR ResNet's BasicBlock with the paper's option-A shortcut, as github.com/akamaster/pytorch_resnet_cifar10
    writes it: the identity subsampled by x[:, :, ::2, ::2] and zero-padded with planes // 4 channels each side."""

    def __init__(self, in_planes=16, planes=32, stride=2):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = LambdaLayer(lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4),
                                                    "constant", 0))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class CifarResNet(nn.Module):
    """A CIFAR ResNet-8 as github.com/akamaster/pytorch_resnet_cifar10 writes ResNet-20/32/…: option-A blocks, then
    F.avg_pool2d(out, out.size()[3]) over the whole 8 × 8 map and out.view(out.size(0), -1)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = OptionABlock(16, 16, 1)
        self.layer2 = OptionABlock(16, 32, 2)
        self.layer3 = OptionABlock(32, 64, 2)
        self.linear = nn.Linear(64, num_classes)
        self.layer1.shortcut = nn.Sequential()  # stride 1, same planes: the identity

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size()[3])
        out = out.view(out.size(0), -1)
        return self.linear(out)


class VideoFrames(nn.Module):
    """A video model folding time into the channels, as `T, H, W = x.shape[2:]` code does, and an audio model's
    global pool F.avg_pool1d(x, x.shape[-1]) (the M5 speech tutorial's)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(3, 4, 3, padding=1)
        self.head = nn.Conv1d(4, 6, 3)

    def forward(self, x):
        T, H, W = x.shape[2:]
        y = self.conv(x).reshape(x.shape[0], -1, H, W)
        y = y.flatten(2).transpose(1, 2).reshape(x.shape[0], 4, -1)
        y = F.relu(self.head(y))
        return F.avg_pool1d(y, y.shape[-1])


class SkipSegmenter(nn.Module):
    """A segmentation net returning to a skip's size with F.interpolate(x, size=skip.shape[2:]), then to the input's."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Conv2d(3, 8, 3, padding=1)
        self.enc2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.enc3 = nn.Conv2d(16, 16, 3, stride=2, padding=1)
        self.fuse = nn.Conv2d(32, 8, 1)
        self.classifier = nn.Conv2d(8, 5, 1)

    def forward(self, x):
        s1 = F.relu(self.enc1(x))
        s2 = F.relu(self.enc2(s1))
        y = F.relu(self.enc3(s2))
        y = F.interpolate(y, size=s2.shape[2:], mode="bilinear", align_corners=False)
        y = self.fuse(torch.cat([y, s2], dim=1))
        return F.interpolate(self.classifier(y), size=x.shape[-2:], mode="bilinear", align_corners=False)


class UNetUp(nn.Module):
    """U-Net's Up block as github.com/milesial/Pytorch-UNet writes it: upsample, pad to the skip's size by half
    the difference each side (F.pad with sizes computed in forward()), concatenate, convolve."""

    def __init__(self, in_channels=16, out_channels=8):
        super().__init__()
        self.down = nn.Conv2d(3, in_channels // 2, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.inner = nn.Conv2d(in_channels // 2, in_channels // 2, 3, padding=1)
        self.up = nn.ConvTranspose2d(in_channels // 2, in_channels // 2, kernel_size=2, stride=2)
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)

    def forward(self, x):
        x2 = self.down(x)
        x1 = self.up(self.inner(self.pool(x2)))
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class ContextAdd(nn.Module):
    """A global-context block (GCNet's channel-add): x + a [N, C, 1, 1] transform of its pooled context, which
    PyTorch's + broadcasts over H and W."""

    def __init__(self, channels=16):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.transform = nn.Sequential(nn.Conv2d(channels, channels // 4, 1), nn.ReLU(),
                                       nn.Conv2d(channels // 4, channels, 1))

    def forward(self, x):
        x = self.conv(x)
        return x + self.transform(self.pool(x))
