"""The pieces of data-parallel training that need no second process (tests/integration/test_torchrun.py runs
torchrun itself)."""
import pytest
import torch

from vae_core import distributed
from vae_core.errors import TrainingError


def test_one_process_is_the_whole_batch_and_draws_noise_as_always():
    assert not distributed.active() and distributed.is_main() and distributed.world_size() == 1
    shard = distributed.shard_slice(64)
    assert (shard.size, shard.start, shard.stop) == (64, 0, 64)
    with distributed.sharded(shard):
        torch.manual_seed(0)
        noise = distributed.batch_noise((64, 3), device=torch.device("cpu"), dtype=torch.float32)
        gathered, mine = distributed.gather_batch(noise)
    torch.manual_seed(0)
    torch.testing.assert_close(noise, torch.randn(64, 3), rtol=0, atol=0)
    assert gathered is noise and mine == slice(None)


@pytest.mark.parametrize("world, rank, expected", [(2, 0, (0, 32)), (2, 1, (32, 64)), (4, 3, (48, 64))])
def test_each_rank_takes_its_contiguous_share(monkeypatch, world, rank, expected):
    monkeypatch.setattr(distributed, "world_size", lambda: world)
    monkeypatch.setattr(distributed, "rank", lambda: rank)
    shard = distributed.shard_slice(64)
    assert (shard.start, shard.stop) == expected


def test_a_batch_that_does_not_split_evenly_is_refused(monkeypatch):
    monkeypatch.setattr(distributed, "world_size", lambda: 3)
    with pytest.raises(TrainingError, match="batch of 64 images does not split evenly across 3 processes"):
        distributed.shard_slice(64)


def test_a_rank_gets_the_rows_of_the_global_noise_one_process_would_give_its_images(monkeypatch):
    monkeypatch.setattr(distributed, "active", lambda: True)
    torch.manual_seed(5)
    whole = torch.randn(8, 2)
    for start in (0, 4):
        torch.manual_seed(5)
        with distributed.sharded(distributed.Shard(8, start, start + 4)):
            part = distributed.batch_noise((4, 2), device=torch.device("cpu"), dtype=torch.float32)
        torch.testing.assert_close(part, whole[start : start + 4], rtol=0, atol=0)
    # an explicit generator (evaluation) is never sharded
    with distributed.sharded(distributed.Shard(8, 4, 8)):
        drawn = distributed.batch_noise((4, 2), device=torch.device("cpu"), dtype=torch.float32,
                                        generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(drawn, torch.randn(4, 2, generator=torch.Generator().manual_seed(1)))


def test_torchrun_environment_is_read_only_when_it_asks_for_processes(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not distributed.launched_by_torchrun() and not distributed.init_from_env("cpu")
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not distributed.launched_by_torchrun() and not distributed.init_from_env("cpu")
