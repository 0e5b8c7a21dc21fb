"""nn.summary: layers, output shapes and parameter counts."""

import chainrule as cr
from chainrule import nn


def test_summary_lists_layers_shapes_and_counts():
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                        nn.Sequential(nn.Linear(256, 10), nn.BatchNorm1d(10)))
    net[0].bias.requires_grad_(False)
    printed = []
    text = nn.summary(net, (32, 784), print_fn=printed.append)
    assert printed == [text]
    lines = text.splitlines()
    rows = [line for line in lines if "(" in line and "Layer" not in line]
    assert [r.split()[:2] for r in rows] == [
        ["0", "(Linear)"], ["1", "(ReLU)"], ["2", "(Dropout)"], ["3", "(Sequential)"],
        ["0", "(Linear)"], ["1", "(BatchNorm1d)"]]
    shapes = ["[32, 256]"] * 3 + ["[32, 10]"] * 3
    counts = ["200,960", "0", "0", "2,590", "2,570", "20"]
    for row, shape, count in zip(rows, shapes, counts):
        assert shape in row and row.endswith(" " + count), row
    assert rows[4].startswith("    0 (Linear)")  # nested rows are indented
    assert lines[3].startswith("Sequential") and lines[3].endswith("203,550")
    assert "Total params: 203,550" in lines
    assert "Trainable params: 203,294" in lines
    assert "Non-trainable params: 256" in lines


def test_summary_restores_modes_and_leaves_state_untouched():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    before = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    nn.summary(net, (2, 3), print_fn=None)
    assert all(m.training for m in net.modules())
    assert not any(m._hooked for m in net.modules())
    for k, v in net.state_dict().items():
        assert (v.detach().numpy() == before[k]).all(), k


def test_summary_with_integer_inputs_and_input_data():
    net = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2))
    text = nn.summary(net, (5, 3), dtype=cr.int64, print_fn=None)
    assert "[5, 3, 4]" in text and "[5, 12]" in text and "Total params: 66" in text
    text2 = nn.summary(net, input_data=cr.tensor([[1, 2, 3]]), print_fn=None)
    assert "[1, 3, 4]" in text2


def test_summary_shares_parameters_once():
    lin = nn.Linear(4, 4)
    text = nn.summary(nn.Sequential(lin, lin), (1, 4), print_fn=None)
    assert "Total params: 20" in text
