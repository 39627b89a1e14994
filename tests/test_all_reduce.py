"""average_gradients over two gloo processes: one flat all-reduce per module, and every rank
ends with the exact mean of the two ranks' gradients."""

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

WORLD = 2


class Several(nn.Module):
    """Parameters of several shapes, one that gets no gradient and one that is frozen."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)  # (3, 2, 3, 3) and (3,)
        self.linear = nn.Linear(4, 5)  # (5, 4) and (5,)
        self.scale = nn.Parameter(torch.ones(2, 1, 6))
        self.unused = nn.Parameter(torch.ones(7))  # trainable, but this step gives it no gradient
        self.frozen = nn.Parameter(torch.ones(3), requires_grad=False)


def rank_gradients(rank: int) -> dict[str, torch.Tensor]:
    """The gradients rank ``rank`` holds before averaging (none for ``unused`` and ``frozen``)."""
    gen = torch.Generator().manual_seed(100 + rank)
    shapes = {name: p.shape for name, p in Several().named_parameters() if name not in ("unused", "frozen")}
    return {name: torch.randn(shape, generator=gen) for name, shape in shapes.items()}


def _worker(rank: int, rendezvous: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=WORLD)
    try:
        from mocohd.train import video_gan

        calls = []
        real = dist.all_reduce
        video_gan.dist.all_reduce = lambda t, *a, **k: (calls.append(t.numel()), real(t, *a, **k))[1]
        module, other = Several(), nn.Linear(3, 2)
        for name, p in module.named_parameters():
            p.grad = rank_gradients(rank).get(name)
        other.weight.grad, other.bias.grad = torch.full((2, 3), float(rank)), torch.full((2,), 2.0 * rank)
        video_gan.average_gradients(module, other)
        grads = {name: p.grad for name, p in module.named_parameters()}
        torch.save({"grads": grads, "other": [other.weight.grad, other.bias.grad], "calls": calls}, f"{out}/{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_ranks_hold_the_exact_mean_after_one_all_reduce_per_module(tmp_path):
    mp.spawn(_worker, args=(str(tmp_path / "rendezvous"), str(tmp_path)), nprocs=WORLD, join=True)
    results = [torch.load(tmp_path / f"{rank}.pt", weights_only=True) for rank in range(WORLD)]
    before = [rank_gradients(rank) for rank in range(WORLD)]
    for result in results:
        grads = result["grads"]
        for name, g in before[0].items():
            assert torch.equal(grads[name], (g + before[1][name]) / 2), name  # exactly the mean
        assert torch.equal(grads["unused"], torch.zeros(7))  # zeros on both ranks: averaged, still zeros
        assert grads["frozen"] is None  # not trainable: left alone
        weight, bias = result["other"]
        assert torch.equal(weight, torch.full((2, 3), 0.5)) and torch.equal(bias, torch.full((2,), 1.0))
        # one collective per module, each over all of its trainable parameters
        trainable = sum(p.numel() for p in Several().parameters() if p.requires_grad)
        assert result["calls"] == [trainable, 3 * 2 + 2]
