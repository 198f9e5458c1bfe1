"""Randomness that threads cannot disturb: models are initialised from a generator of their own,
so building models (or running the protocol) in several threads gives what one thread gives,
even while another thread draws from torch's global generator."""

import threading

import torch

import spurlab as sl


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_models_built_in_threads_are_the_models_built_alone():
    alone = {s: sl.make_model(seed=s) for s in range(5)}
    built, stop = [], threading.Event()

    def noise():                               # someone else drawing from the global generator
        while not stop.is_set():
            torch.rand(64)

    def build(offset):
        for i in range(40):
            s = (i + offset) % 5
            built.append((s, sl.make_model(seed=s)))

    other = threading.Thread(target=noise)
    other.start()
    workers = [threading.Thread(target=build, args=(k,)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    other.join()
    assert len(built) == 160
    assert sum(not _same(m, alone[s]) for s, m in built) == 0
    # the global generator is not touched by building a model
    torch.manual_seed(7)
    sl.make_model(seed=3)
    after = torch.rand(3)
    torch.manual_seed(7)
    assert torch.equal(after, torch.rand(3))


def test_runs_in_threads_give_the_sequential_numbers():
    cfg = sl.preset("smoke", n_train=300, n_test=120, epochs=2, score_epoch=1)
    alone = [sl.run(cfg.replace(seed=s), arms=["hardest"], reference=False, cache=False)
             for s in (0, 1)]
    got = {}

    def one(s):
        got[s] = sl.run(cfg.replace(seed=s), arms=["hardest"], reference=False, cache=False)

    threads = [threading.Thread(target=one, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in (0, 1):
        assert got[s].baseline == alone[s].baseline and got[s].arms == alone[s].arms
        assert got[s].scores == alone[s].scores
