"""One process or many (torchrun): device choice, process group, reductions."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from toolkit.errors import CnnkitError


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """--device auto|cpu|cuda|cuda:N -> a torch.device; a CnnkitError when it is not here."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else "no visible GPU"
            raise CnnkitError(
                f"--device {name}: CUDA is not available on this machine (torch "
                f"{torch.__version__}, {build}); use --device cpu or auto"
            )
        device = torch.device(name)
        index = device.index if device.index is not None else local_rank
        if index >= torch.cuda.device_count():
            raise CnnkitError(f"--device {name}: only {torch.cuda.device_count()} GPU(s) here")
        return torch.device("cuda", index)
    raise CnnkitError(f"--device {name!r}: use auto, cpu, cuda or cuda:N")


@dataclass
class Context:
    """Where this process trains: its rank, the world size and its device."""

    rank: int
    world: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Only rank 0 writes files and prints."""
        return self.rank == 0

    def all_reduce(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum `tensor` over ranks in place (a no-op for one process)."""
        if self.world > 1:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def barrier(self) -> None:
        """Wait for every rank."""
        if self.world > 1:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group."""
        if self.world > 1 and dist.is_initialized():
            # gloo aborts a rank that tears down while its peer still talks to it
            dist.barrier()
            dist.destroy_process_group()


def setup(device_name: str) -> Context:
    """Join torchrun's process group when WORLD_SIZE > 1 (gloo on CPU, nccl on CUDA)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name, local_rank)
    if world > 1:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Context(rank, world, device)
