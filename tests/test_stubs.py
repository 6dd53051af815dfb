"""evloop/_evloop.pyi describes the compiled module: every public name of
evloop._evloop has a stub (except the engine's internal classes listed
here), and every public method or attribute of a stubbed class is in its
stub, so the stub cannot silently fall behind the code."""
import ast
from pathlib import Path

import evloop._evloop as ext

STUB = Path(ext.__file__).resolve().parent / "_evloop.pyi"

# Engine internals: classes users never construct or receive.
INTERNAL = {
    "BACKEND_ORDER", "Backend", "EpollBackend", "PollBackend", "SelectBackend",
    "BevEvent", "BevRateLimit", "BuffereventFilter", "CommonTimeoutEvent", "ListenerEvent",
    "FdWatcher", "ReadyEvent", "SignalWatcher", "SockWatcher", "ChildExitWatcher",
}


def _members(body):
    """Names a class body declares, including under ``if sys.version_info``
    (a signature that follows the Python version, as typeshed writes it)."""
    members = set()
    for item in body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            members.add(item.name)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            members.add(item.target.id)
        elif isinstance(item, ast.If):
            members |= _members(item.body) | _members(item.orelse)
    return members


def _stub_names():
    tree = ast.parse(STUB.read_text())
    top, classes = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            top.add(node.name)
        elif isinstance(node, ast.ClassDef):
            top.add(node.name)
            classes[node.name] = _members(node.body)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top.add(node.target.id)
    return top, classes


def test_every_public_name_has_a_stub():
    top, _ = _stub_names()
    missing = [n for n in dir(ext) if not n.startswith("_") and n not in top and n not in INTERNAL]
    assert missing == []


def test_stubbed_names_exist():
    # (type aliases, `X = Callable[...]`, are not collected: stub-only names)
    top, _ = _stub_names()
    assert [n for n in top if not hasattr(ext, n)] == []


def test_every_public_member_of_a_stubbed_class_is_stubbed():
    _, classes = _stub_names()
    missing = {}
    for name, members in classes.items():
        cls = getattr(ext, name, None)
        if cls is None:
            continue
        # the class's own members, and those of compiled bases not stubbed
        gaps = [m for m in vars(cls) if not m.startswith("_") and m not in members
                and not any(m in classes.get(b.__name__, ()) for b in cls.__mro__[1:])]
        if gaps:
            missing[name] = gaps
    assert missing == {}
