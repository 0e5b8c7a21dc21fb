"""cr.viz: DOT source of graphs and models, and rendering through Graphviz's dot."""


import numpy as np
import pytest

import chainrule as cr
from chainrule import viz


def small_graph():
    W = cr.tensor([[0.5, -1.0], [2.0, 0.0]], requires_grad=True)
    x = cr.tensor([[1.0, 2.0]])
    loss = cr.relu(x @ W).sum()
    return loss, W


def test_to_dot_shows_ops_shapes_values_gradients_and_parameter_names():
    loss, W = small_graph()
    loss.backward(retain_graph=True)
    src = viz.to_dot(loss, params={"fc1.weight": W})
    assert src.startswith("digraph chainrule {") and src.rstrip().endswith("}")
    assert 'label="z1 = matmul\\n(1, 2)\\nvalue norm' in src
    assert "h1 = relu" in src and "L = sum\\nscalar\\nvalue 4.5000" in src
    # fc1.weight: grad = x^T [relu mask] = [[1, 1], [2, 2]] * [1, 0] columns -> norm sqrt(5)
    assert "fc1.weight\\n(2, 2)\\nvalue norm 2.2913\\ngrad norm 2.2361" in src
    assert src.count("->") == 4  # x, W -> matmul -> relu -> sum


def test_to_dot_accepts_tensor_to_name_maps_and_unnamed_graphs():
    loss, W = small_graph()
    assert "weight" in viz.to_dot(loss, params={W: "weight"})
    assert "p1" in viz.to_dot(loss)


def test_to_dot_of_a_leaf_and_of_a_freed_graph():
    w = cr.tensor(1.0, requires_grad=True, name="w")
    assert '"w\\nscalar\\nvalue 1.0000"' in viz.to_dot(w)
    y = w * w
    y.backward()
    assert "freed by backward" in viz.to_dot(y)


def test_model_to_dot_draws_layers_with_output_shapes():
    import chainrule.nn as nn
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    src = viz.model_to_dot(net, (5, 4))
    assert 'input [shape=oval, label="input\\n(5, 4)"]' in src
    assert "out (5, 3)" in src and "out (5, 2)" in src
    assert "15 parameters" in src and "8 parameters" in src  # 4*3+3 and 3*2+2
    assert src.count("->") == 3


def test_render_without_dot_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    loss, _ = small_graph()
    with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz"):
        viz.render(loss, tmp_path / "g.svg")


def test_render_writes_an_svg(tmp_path):
    loss, W = small_graph()
    out = viz.render(loss, tmp_path / "g.svg", params={"fc1.weight": W})
    assert "<svg" in out.read_text()


def test_values_are_real_numbers():
    a = np.array([3.0, 4.0])
    assert viz._summary(a) == "norm 5.0000"


def test_op_nodes_show_the_gradient_reaching_them():
    w = cr.tensor(3.0, requires_grad=True, name="w")
    y = w * w  # dL/dy = 2 for L = 2 * y
    src = viz.to_dot(y * 2.0, grads=True)
    assert "t1 = mul\\nscalar\\nvalue 9.0000\\ngrad 2.0000" in src
    assert w.grad is None
    trace = cr.explain(y * 2.0)
    assert "grad 2.0000" in viz.to_dot(y * 2.0, grads=trace)
