"""A restricted pickle interpreter: reads pickle opcodes as data and never executes pickle.

Python's ``pickle.load`` imports any module a file names and calls whatever the file asks for,
so loading an untrusted pickle runs untrusted code. This interpreter reads the same opcodes
(protocols 0 to 5, as ``pickletools`` documents them) but decides itself what each may do:

- it builds only plain data: ``None``, bools, ints, floats, strings, bytes, lists, tuples,
  dicts, sets;
- a global (``GLOBAL`` / ``STACK_GLOBAL``) is resolved by the caller's ``find_global``, which
  looks the name up in an allow-list and never imports anything;
- ``REDUCE`` calls only a ``SafeCall``, one of chainrule's own rebuild functions;
- ``NEWOBJ`` / ``BUILD`` go to the caller's ``new_object`` / ``build`` (refused by default);
- ``APPEND`` / ``SETITEM`` / ``ADDITEMS`` act only on real lists, dicts and sets;
- persistent ids (tensor storages) go to the caller's ``persistent_load``;
- instance opcodes of protocol 0/1 (``INST``, ``OBJ``), extension codes and out-of-band
  buffers are refused.

Every length is checked against the bytes that are left, and the memo is a dict, so a crafted
file cannot make the interpreter allocate more than the file itself holds.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .errors import UnpicklingError

_MAX_MARKS = 100_000
_MAX_PROTOCOL = 5
_MAX_LONG_BYTES = 1 << 16  # a 512 Kibit integer is far beyond any checkpoint's needs
_FIX_IMPORTS = {"__builtin__": "builtins", "copy_reg": "copyreg"}  # Python 2 module names


class SafeCall:
    """A global that ``REDUCE`` may call: one of chainrule's own functions, under the name the
    file uses for it (e.g. ``torch._utils._rebuild_tensor_v2``)."""

    __slots__ = ("name", "fn")

    def __init__(self, name: str, fn: Callable) -> None:
        self.name, self.fn = name, fn

    def __repr__(self) -> str:
        return f"<chainrule rebuild of {self.name}>"


def _refuse_new(cls, args, kwargs):
    raise UnpicklingError(f"the pickle creates an object of {cls!r} (NEWOBJ); chainrule "
                          "creates no objects from a pickle except its own")


def _refuse_build(obj, state):
    raise UnpicklingError(f"the pickle sets the state of a {type(obj).__name__} (BUILD); "
                          "chainrule allows that only on objects of allow-listed classes")


class Unpickler:
    """Run one pickle found at ``data[pos:]``; ``load()`` returns its object and leaves
    ``pos`` just after its ``STOP``.

    ``find_global(module, name)`` returns the object a global stands for or raises;
    ``persistent_load(pid)`` returns what a persistent id stands for; ``new_object(cls, args,
    kwargs)`` and ``build(obj, state)`` implement ``NEWOBJ`` and ``BUILD`` if the caller
    allows them. ``encoding`` decodes Python 2 ``str`` data (``"bytes"`` keeps bytes).

    Example:
        >>> from chainrule.serialization.pickle_vm import Unpickler
        >>> Unpickler(b"\\x80\\x02]q\\x00(K\\x01K\\x02e.").load()  # pickle.dumps([1, 2], 2)
        [1, 2]
    """

    def __init__(self, data: bytes | memoryview, pos: int = 0, *,
                 find_global: Callable[[str, str], Any] | None = None,
                 persistent_load: Callable[[Any], Any] | None = None,
                 new_object: Callable = _refuse_new, build: Callable = _refuse_build,
                 encoding: str = "ASCII") -> None:
        self.data = memoryview(data).cast("B")
        self.pos = pos
        self._find_global = find_global or self._no_globals
        self._persistent_load = persistent_load or self._no_persistent
        self._new_object, self._build = new_object, build
        self._encoding = encoding
        self._global_names: dict[int, tuple[str, Any]] = {}  # id -> (name, object kept alive)

    # ---- defaults ---------------------------------------------------------------------------
    @staticmethod
    def _no_globals(module: str, name: str):
        raise UnpicklingError(f"the pickle names the global {module}.{name}; none is allowed "
                              "here")

    @staticmethod
    def _no_persistent(pid):
        raise UnpicklingError("the pickle holds a persistent id; none is expected here")

    # ---- reading bytes ----------------------------------------------------------------------
    def _read(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise UnpicklingError(f"the pickle is truncated: an opcode at byte {self.pos} "
                                  f"wants {n} bytes but {len(self.data) - self.pos} are left")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def _unpack(self, fmt: str) -> int | float:
        return struct.unpack(fmt, self._read(struct.calcsize(fmt)))[0]

    def _readline_bytes(self) -> bytes:
        end = bytes(self.data[self.pos:self.pos + 65536]).find(b"\n")
        if end < 0:
            raise UnpicklingError(f"no end of line within 64 KiB after byte {self.pos}; the "
                                  "pickle is truncated or corrupt")
        return bytes(self._read(end + 1)[:-1])

    def _readline(self) -> str:
        line = self._readline_bytes()
        try:
            return line.decode("ascii")
        except UnicodeDecodeError:
            raise UnpicklingError(f"non-ASCII text in a text opcode at byte {self.pos}") from None

    def _long(self, nbytes: int) -> int:
        if nbytes > _MAX_LONG_BYTES:
            raise UnpicklingError(f"the pickle holds a {nbytes}-byte integer; refusing integers "
                                  f"over {_MAX_LONG_BYTES} bytes")
        return int.from_bytes(self._read(nbytes), "little", signed=True)

    def _text(self, raw: memoryview) -> str:
        try:
            return str(raw, "utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise UnpicklingError(f"invalid UTF-8 in a string before byte {self.pos}") from None

    def _py2_str(self, raw: memoryview) -> str | bytes:
        if self._encoding == "bytes":
            return bytes(raw)
        try:
            return str(raw, self._encoding)
        except (UnicodeDecodeError, LookupError) as e:
            raise UnpicklingError(f"cannot decode a Python 2 string with encoding "
                                  f"{self._encoding!r}: {e}") from None

    # ---- the stack (MARK saves the current stack on the metastack, as pickle does) ---------
    def _pop(self) -> Any:
        if not self.stack:
            raise UnpicklingError(f"the pickle pops an empty stack at byte {self.pos - 1}")
        return self.stack.pop()

    def _top(self) -> Any:
        if not self.stack:
            raise UnpicklingError(f"the pickle reads an empty stack at byte {self.pos - 1}")
        return self.stack[-1]

    def _pop_mark(self) -> list:
        if not self.metastack:
            raise UnpicklingError(f"the pickle has no MARK to pop to at byte {self.pos - 1}")
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def _name_of(self, obj: Any) -> str:
        entry = self._global_names.get(id(obj))
        if entry is not None and entry[1] is obj:
            return entry[0]
        return f"a {type(obj).__name__}"

    # ---- running ----------------------------------------------------------------------------
    def load(self) -> Any:
        self.stack: list = []
        self.metastack: list[list] = []
        self.memo: dict[int, Any] = {}
        ops = _OPS
        while True:
            if self.pos >= len(self.data):
                raise UnpicklingError("the pickle ends without a STOP opcode; it is truncated")
            code = self.data[self.pos]
            self.pos += 1
            handler = ops.get(code)
            if handler is None:
                raise UnpicklingError(f"unknown or unsupported pickle opcode {bytes([code])!r} "
                                      f"at byte {self.pos - 1}")
            if handler is _stop:
                value = self._pop()
                if self.stack or self.metastack:
                    raise UnpicklingError("the pickle leaves extra items on the stack at STOP")
                return value
            handler(self)


# ---- opcode handlers --------------------------------------------------------------------------
def _stop(u: Unpickler) -> None:  # handled in load(); here only as a marker
    raise AssertionError


def _proto(u):
    proto = u._read(1)[0]
    if proto > _MAX_PROTOCOL:
        raise UnpicklingError(f"unsupported pickle protocol {proto}")


def _frame(u):
    size = u._unpack("<Q")
    if size > len(u.data) - u.pos:
        raise UnpicklingError(f"a FRAME of {size} bytes runs past the end of the pickle")


def _push(value):
    def handler(u):
        u.stack.append(value() if callable(value) else value)
    return handler


def _push_read(reader):
    def handler(u):
        u.stack.append(reader(u))
    return handler


def _int_text(u):
    line = u._readline()
    if line in ("00", "01"):  # protocol 0 writes bools this way
        u.stack.append(line == "01")
        return
    u.stack.append(_parse_int(line.rstrip("L")))


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UnpicklingError(f"invalid integer literal {text[:40]!r} in the pickle") from None


def _float_text(u):
    line = u._readline()
    try:
        u.stack.append(float(line))
    except ValueError:
        raise UnpicklingError(f"invalid float literal {line[:40]!r} in the pickle") from None


def _sized(fmt: str, convert: str):
    def handler(u):
        n = u._unpack(fmt)
        raw = u._read(n)
        if convert == "text":
            u.stack.append(u._text(raw))
        elif convert == "py2":
            u.stack.append(u._py2_str(raw))
        elif convert == "bytes":
            u.stack.append(bytes(raw))
        else:
            u.stack.append(bytearray(raw))
    return handler


def _refuse(what: str):
    def handler(u):
        raise UnpicklingError(f"the pickle uses {what} at byte {u.pos - 1}, which chainrule "
                              "does not support")
    return handler


def _append(u):
    value = u._pop()
    _list_target(u, u._top(), "APPEND").append(value)


def _appends(u):
    items = u._pop_mark()
    _list_target(u, u._top(), "APPENDS").extend(items)


def _list_target(u, target, op):
    if type(target) is not list:
        raise UnpicklingError(f"{op} on {u._name_of(target)} at byte {u.pos - 1}; chainrule "
                              "appends only to lists")
    return target


def _dict_target(u, target, op):
    if type(target) not in (dict, OrderedDict):
        raise UnpicklingError(f"{op} on {u._name_of(target)} at byte {u.pos - 1}; chainrule "
                              "sets items only in dicts")
    return target


def _set_items(u, target, items, op):
    if len(items) % 2:
        raise UnpicklingError(f"{op} with an odd number of items at byte {u.pos - 1}")
    for i in range(0, len(items), 2):
        try:
            target[items[i]] = items[i + 1]
        except Exception as e:  # an unhashable key
            raise UnpicklingError(f"{op}: cannot use {type(items[i]).__name__} as a dict key "
                                  f"({e})") from None


def _setitem(u):
    value, key = u._pop(), u._pop()
    _set_items(u, _dict_target(u, u._top(), "SETITEM"), [key, value], "SETITEM")


def _setitems(u):
    items = u._pop_mark()
    _set_items(u, _dict_target(u, u._top(), "SETITEMS"), items, "SETITEMS")


def _dict(u):
    items = u._pop_mark()
    d: dict = {}
    _set_items(u, d, items, "DICT")
    u.stack.append(d)


def _hashables(u, items, op):
    try:
        return set(items)
    except TypeError as e:
        raise UnpicklingError(f"{op}: unhashable set item ({e})") from None


def _additems(u):
    items = u._pop_mark()
    target = u._top()
    if type(target) is not set:
        raise UnpicklingError(f"ADDITEMS on {u._name_of(target)}; chainrule adds only to sets")
    target.update(_hashables(u, items, "ADDITEMS"))


def _frozenset(u):
    items = frozenset(_hashables(u, u._pop_mark(), "FROZENSET"))
    u.stack.append(items)


def _list(u):
    items = u._pop_mark()  # first: it swaps the stack back
    u.stack.append(items)


def _tuple(u):
    items = tuple(u._pop_mark())
    u.stack.append(items)


def _tuple_n(n):
    def handler(u):
        items = [u._pop() for _ in range(n)][::-1]
        u.stack.append(tuple(items))
    return handler


def _mark(u):
    if len(u.metastack) >= _MAX_MARKS:
        raise UnpicklingError(f"the pickle nests more than {_MAX_MARKS} MARKs")
    u.metastack.append(u.stack)
    u.stack = []


def _pop(u):
    if u.stack:
        u.stack.pop()
    else:
        u._pop_mark()


def _dup(u):
    u.stack.append(u._top())


def _get(key_reader):
    def handler(u):
        key = key_reader(u)
        if key not in u.memo:
            raise UnpicklingError(f"the pickle reads memo entry {key}, which was never stored "
                                  f"(byte {u.pos - 1})")
        u.stack.append(u.memo[key])
    return handler


def _put(key_reader):
    def handler(u):
        key = key_reader(u)
        if key < 0:
            raise UnpicklingError(f"negative memo key {key} in the pickle")
        u.memo[key] = u._top()
    return handler


def _memoize(u):
    u.memo[len(u.memo)] = u._top()


def _resolve(u, module: str, name: str):
    module = _FIX_IMPORTS.get(module, module)
    obj = u._find_global(module, name)
    u._global_names[id(obj)] = (f"{module}.{name}", obj)
    u.stack.append(obj)


def _global(u):
    module, name = u._readline(), u._readline()
    _resolve(u, module, name)


def _stack_global(u):
    name, module = u._pop(), u._pop()
    if type(module) is not str or type(name) is not str:
        raise UnpicklingError("STACK_GLOBAL expects two strings on the stack")
    _resolve(u, module, name)


def _reduce(u):
    args = u._pop()
    func = u._pop()
    if not isinstance(func, SafeCall):
        raise UnpicklingError(f"the pickle calls {u._name_of(func)} (REDUCE); chainrule calls "
                              "only its own rebuild functions and never executes pickle")
    if type(args) is not tuple:
        raise UnpicklingError(f"REDUCE of {func.name} with {type(args).__name__} arguments")
    try:
        u.stack.append(func.fn(*args))
    except UnpicklingError:
        raise
    except TypeError as e:  # wrong arity or argument types from a crafted file
        raise UnpicklingError(f"{func.name}: bad arguments in the pickle ({e})") from None


def _newobj(u):
    args = u._pop()
    cls = u._pop()
    u.stack.append(u._new_object(cls, args, {}))


def _newobj_ex(u):
    kwargs, args, cls = u._pop(), u._pop(), u._pop()
    u.stack.append(u._new_object(cls, args, kwargs))


def _build(u):
    state = u._pop()
    u._build(u._top(), state)


def _binpersid(u):
    u.stack.append(u._persistent_load(u._pop()))


_OPS: dict[int, Callable[[Unpickler], None]] = {ord(k): v for k, v in {
    ".": _stop, "\x80": _proto, "\x95": _frame,
    # constants and numbers
    "N": _push(None), "\x88": _push(True), "\x89": _push(False),
    "I": _int_text, "L": lambda u: u.stack.append(_parse_int(u._readline().rstrip("L"))),
    "J": _push_read(lambda u: u._unpack("<i")), "K": _push_read(lambda u: u._read(1)[0]),
    "M": _push_read(lambda u: u._unpack("<H")),
    "\x8a": _push_read(lambda u: u._long(u._read(1)[0])),
    "\x8b": _push_read(lambda u: u._long(u._unpack("<i"))),
    "F": _float_text, "G": _push_read(lambda u: u._unpack(">d")),
    # strings and bytes
    "X": _sized("<I", "text"), "\x8c": _sized("<B", "text"), "\x8d": _sized("<Q", "text"),
    "T": _sized("<i", "py2"), "U": _sized("<B", "py2"),
    "B": _sized("<I", "bytes"), "C": _sized("<B", "bytes"), "\x8e": _sized("<Q", "bytes"),
    "\x96": _sized("<Q", "bytearray"),
    "S": _refuse("a protocol-0 STRING"),
    "V": _push_read(lambda u: u._readline_bytes().decode("raw-unicode-escape")),
    # containers
    "]": _push(list), "l": _list,
    "a": _append, "e": _appends,
    ")": _push(()), "t": _tuple,
    "\x85": _tuple_n(1), "\x86": _tuple_n(2), "\x87": _tuple_n(3),
    "}": _push(dict), "d": _dict, "s": _setitem, "u": _setitems,
    "\x8f": _push(set), "\x90": _additems, "\x91": _frozenset,
    # stack and memo
    "(": _mark, "0": _pop, "1": lambda u: u._pop_mark(), "2": _dup,
    "g": _get(lambda u: _parse_int(u._readline())), "h": _get(lambda u: u._read(1)[0]),
    "j": _get(lambda u: u._unpack("<I")),
    "p": _put(lambda u: _parse_int(u._readline())), "q": _put(lambda u: u._read(1)[0]),
    "r": _put(lambda u: u._unpack("<I")), "\x94": _memoize,
    # globals and objects
    "c": _global, "\x93": _stack_global, "R": _reduce, "b": _build,
    "\x81": _newobj, "\x92": _newobj_ex, "Q": _binpersid,
    "i": _refuse("INST (protocol-0 object creation)"),
    "o": _refuse("OBJ (protocol-1 object creation)"),
    "\x82": _refuse("the extension registry (EXT1)"), "\x83": _refuse("the extension registry "
                                                                     "(EXT2)"),
    "\x84": _refuse("the extension registry (EXT4)"),
    "P": _refuse("a text persistent id (PERSID)"),
    "\x97": _refuse("out-of-band buffers (NEXT_BUFFER)"),
    "\x98": _refuse("out-of-band buffers (READONLY_BUFFER)"),
}.items()}
