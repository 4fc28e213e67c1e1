"""LeNet-5 (LeCun et al., 1998) in its classic form and a modern ReLU + max-pool variant."""

from __future__ import annotations

import torch
from torch import nn

from toolkit.models.layers import activation, check_activation, check_common
from toolkit.models.registry import register


class LeNet5(nn.Module):
    """C1 6@5x5, S2 pool, C3 16@5x5, S4 pool, C5 120@5x5, F6 84, output.

    On the paper's 32x32 input C5 yields 1x1; the global average pool after it lets
    larger inputs through without changing anything at 32x32.
    """

    TRUNK = ("features",)  # fine-tuning: the trunk, and the layer a new num_classes replaces
    HEAD = ("head.3",)

    def __init__(
        self,
        *,
        num_classes: int = 10,
        in_channels: int = 1,
        activation_name: str = "tanh",
        pool: type[nn.Module] = nn.AvgPool2d,
    ):
        super().__init__()
        act = check_activation(activation_name)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5),  # C1
            activation(act, 6),
            pool(2, 2),  # S2
            nn.Conv2d(6, 16, 5),  # C3
            activation(act, 16),
            pool(2, 2),  # S4
            nn.Conv2d(16, 120, 5),  # C5
            activation(act, 120),
            nn.AdaptiveAvgPool2d(1),
        )
        self.head = nn.Sequential(
            nn.Flatten(1),
            nn.Linear(120, 84),  # F6
            activation(act, 84),
            nn.Linear(84, num_classes),
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The convolutional trunk."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        """The fully connected classifier."""
        return self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [N, num_classes]: forward_features, then forward_head."""
        return self.forward_head(self.forward_features(x))


@register(
    "lenet5",
    task="classification",
    input_size=(1, 32, 32),
    description="LeNet-5 as published: tanh, average-pool subsampling, 61.7K params",
)
def lenet5(*, num_classes: int = 10, in_channels: int = 1, activation: str = "tanh") -> LeNet5:
    """Classic LeNet-5 (sigmoid or tanh, average pooling)."""
    check_common(num_classes, in_channels, activation)
    return LeNet5(num_classes=num_classes, in_channels=in_channels, activation_name=activation)


@register(
    "lenet",
    task="classification",
    input_size=(1, 32, 32),
    description="Modern LeNet: LeNet-5's layout with ReLU and max pooling",
)
def lenet(*, num_classes: int = 10, in_channels: int = 1, activation: str = "relu") -> LeNet5:
    """LeNet-5's layout with ReLU and max pooling."""
    check_common(num_classes, in_channels, activation)
    return LeNet5(
        num_classes=num_classes,
        in_channels=in_channels,
        activation_name=activation,
        pool=nn.MaxPool2d,
    )
