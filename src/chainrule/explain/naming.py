"""Readable names for the tensors of a graph: the user's, the model's, or z1, h1, ... otherwise.

Priority: ``names={tensor: "name"}`` given to the call, then ``tensor.name``, then a module's
parameter names (``fc1.weight``), then generated ones: activations are ``h1, h2, ...``, the value
fed into an activation is ``z1, z2, ...`` (its pre-activation), the scalar output is ``L``,
other intermediates ``t1, t2, ...``, unnamed parameters ``p1, ...`` and constants their value.

Example:
    >>> import chainrule as cr
    >>> w = cr.tensor(0.5, requires_grad=True, name="w")
    >>> z = w * 2.0
    >>> h = cr.sigmoid(z)
    >>> loss = h * 3.0
    >>> n = Namer(loss, ordered_nodes(loss))
    >>> n.node(z._node), n.node(h._node), n.node(loss._node), n.tensor(w)
    ('z1', 'h1', 'L', 'w')
"""

from __future__ import annotations

from . import fmt


def _is_activation(node) -> bool:
    """An op the registry calls an activation (relu, sigmoid, softmax, ...)."""
    return getattr(node.op, "kind", None) == "activation"



def ordered_nodes(root) -> list:
    """The nodes behind ``root`` in the order the forward pass created them.

    Unlike the engine's ``toposort`` this accepts a graph a backward() already freed: its
    freed nodes are listed without inputs, so the graph can still be drawn and diagnosed.
    """
    seen, stack = set(), [root._node] if root._node is not None else []
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(t._node for t in n.inputs or () if t._node is not None)
    return sorted(seen, key=lambda n: n.seq)


def given_name(t, names) -> str | None:
    """The name the caller gave ``t`` (``names``: a dict or a Module), else ``t.name``."""
    if isinstance(names, dict):
        for k, v in names.items():
            if k is t:
                return v
    if names is not None and hasattr(names, "named_parameters"):
        for n, p in names.named_parameters():
            if p is t:
                return n
    return t.name


def param_names(source) -> dict:
    """``{id(tensor): name}`` from a Module (``named_parameters``), a dict or None."""
    if source is None:
        return {}
    if hasattr(source, "named_parameters"):
        return {id(p): n for n, p in source.named_parameters()}
    if isinstance(source, dict):
        return {id(t): str(n) for t, n in source.items()}
    raise TypeError("names must be a dict {tensor: name} or a Module with named_parameters()")


class Namer:
    """Assigns every node and leaf of one graph a stable, readable name."""

    def __init__(self, root, nodes, names=None, model=None) -> None:
        given = param_names(model)
        given.update(param_names(names))
        self._given = given
        self._leaves: dict[int, str] = {}
        self._counts = {"p": 0, "c": 0}
        self._nodes: dict[object, str] = {}
        consumers: dict[object, list] = {}
        for node in nodes:
            for t in node.inputs or ():
                if t._node is not None:
                    consumers.setdefault(t._node, []).append(node)
        # names given for intermediate tensors reach their nodes through the caller's tensors
        node_given = {t._node: given[id(t)] for t in _given_tensors(names)
                      if t._node is not None}
        if root._node is not None and root.name:
            node_given.setdefault(root._node, root.name)
        act = tmp = 0
        for node in nodes:
            if node in node_given:
                self._nodes[node] = node_given[node]
                if _is_activation(node):
                    act += 1
                continue
            uses = consumers.get(node, [])
            if node is root._node:
                name = "L" if root._data.size == 1 else "out"
            elif _is_activation(node):
                act += 1
                name = f"h{act}"
            elif uses and all(_is_activation(u) for u in uses):
                name = f"z{act + 1}"
            else:
                tmp += 1
                name = f"t{tmp}"
            self._nodes[node] = name
        for node in nodes:
            for t in node.inputs or ():
                if t._node is None:
                    self.tensor(t)

    def rename_detached(self, t, source: str) -> str:
        """Call an unnamed detached copy ``source.detach()`` instead of its value or ``c1``."""
        return self.rename(t, f"{source}.detach()")

    def rename(self, t, name: str) -> str:
        """Call an unnamed leaf ``name`` when what it was made from says more than ``c1``."""
        if id(t) not in self._given and not t.name:
            self._leaves[id(t)] = name
        return self.tensor(t)

    def node(self, node) -> str:
        return self._nodes.get(node, "?")

    def tensor(self, t) -> str:
        """The name of a tensor: a leaf's own, or the name of the node that produced it."""
        if t._node is not None and t._node in self._nodes:
            return self._nodes[t._node]
        key = id(t)
        if key in self._leaves:
            return self._leaves[key]
        if key in self._given:
            name = self._given[key]
        elif t.name:
            name = t.name
        elif t.requires_grad:
            self._counts["p"] += 1
            name = f"p{self._counts['p']}"
        elif t._data.size == 1 and t._data.dtype.kind in "fiub":
            name = fmt.const(t._data.reshape(()).item())
        else:
            self._counts["c"] += 1
            name = f"c{self._counts['c']}"
        self._leaves[key] = name
        return name


def _given_tensors(names):
    if isinstance(names, dict):
        return list(names)
    return []
