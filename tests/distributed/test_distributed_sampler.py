"""``DistributedSampler`` hands every rank exactly the indices PyTorch's would, shuffled or not."""

from __future__ import annotations

import pytest
from torch.utils.data import DistributedSampler as TorchSampler

from chainrule.data import DistributedSampler


@pytest.mark.parametrize("n", [0, 1, 7, 12, 1001])
@pytest.mark.parametrize("replicas", [1, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_same_indices_as_pytorch(n, replicas, drop_last):
    for seed, epoch, shuffle in [(0, 0, True), (5, 3, True), (2**33 + 1, 1, True),
                                 (0, 0, False)]:
        for rank in range(replicas):
            ours = DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=seed,
                                      drop_last=drop_last)
            theirs = TorchSampler(range(n), replicas, rank, shuffle=shuffle, seed=seed,
                                  drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs), (seed, epoch, shuffle, rank)
            assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


def test_a_large_dataset_matches_too():
    ours, theirs = DistributedSampler(range(60000), 2, 1, seed=7), TorchSampler(range(60000),
                                                                                2, 1, seed=7)
    assert list(ours) == list(theirs)


def test_bad_arguments():
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(range(4), 0, 0)
    with pytest.raises(TypeError, match="seed"):
        DistributedSampler(range(4), 2, 0, seed=1.5)
