"""Generate docs/libevent-table.md: every libevent function evloop.compat
implements, with the object-API member it calls.

    python docs/gen_libevent_table.py            # (re)write docs/libevent-table.md
    python docs/gen_libevent_table.py --check    # exit 1 if the file is stale

The table is derived from the code, not written by hand.  For every function
in the ``__all__`` of an ``evloop.compat`` module, the function's source is
parsed with ``ast`` and its calls are resolved with what the wrapper itself
checks:

* an argument checker is a private function of ``evloop.compat`` that
  raises TypeError unless its first parameter ``isinstance()`` of an evloop
  class, and returns it (``_event(ev)``, ``_buf(buf)``, ``_bev(bufev)``...):
  ``_event(ev).add(...)`` is ``Event.add``, and a local assigned from a
  checker (``e = _event(ev)``) carries the class;
* a call of an evloop class or of one of its classmethods is a constructor
  (``Event(...)``, ``Bufferevent.pair(...)``), also when the class is handed
  to the compat layer's ``_call()`` as the function to run;
* ``_core.name`` (the compiled module) is a module function of ``evloop``;
* a call of another public compat function (the macros: ``evtimer_add`` is
  ``event_add``) takes that function's mapping, noted with the call;
* private helpers the wrapper calls are followed (a few levels deep).

A row is resolved when exactly one object-API member is called (method
calls first; a property read counts only where nothing is called).  Where
the wrapper calls several, or calls a method on something the analysis
cannot type, the row says "(wrapper: see docstring)" and lists what it saw,
rather than guessing.  Functions with no evloop object at all are marked as
Python standard library (``evutil_*``) or no-ops.
"""
import argparse
import ast
import importlib
import inspect
import os
import re
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "libevent-table.md")
MODULES = ["event", "event_compat", "util", "buffer", "bufferevent", "listener"]
WRAPPER = "(wrapper: see docstring)"
MAX_DEPTH = 4


def _load():
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    import evloop._evloop as core
    mods = [importlib.import_module(f"evloop.compat.{m}") for m in MODULES]
    return core, mods


class Analyzer:
    def __init__(self, core, modules):
        self.core = core
        self.modules = modules
        self.classes = {obj for obj in vars(core).values() if isinstance(obj, type)}
        self.public = {}  # function object -> name, for every public compat function
        for mod in modules:
            for name in mod.__all__:
                obj = getattr(mod, name)
                if inspect.isfunction(obj):
                    self.public[obj] = name
        self._checkers = {}
        self._trees = {}

    def is_class(self, obj):
        """True for a class of the compiled core (Event, Bufferevent, ...)."""
        return isinstance(obj, type) and obj in self.classes

    # -- sources ------------------------------------------------------------------------
    def tree(self, fn):
        if fn not in self._trees:
            src = textwrap.dedent(inspect.getsource(fn))
            self._trees[fn] = ast.parse(src).body[0]
        return self._trees[fn]

    def checker_class(self, fn):
        """The evloop class ``fn`` checks its first parameter against, if ``fn``
        is an argument checker: ``if not isinstance(p, C): raise TypeError``
        and ``return p``."""
        if fn in self._checkers:
            return self._checkers[fn]
        result = None
        try:
            node = self.tree(fn)
        except (OSError, TypeError, SyntaxError):
            node = None
        if isinstance(node, ast.FunctionDef) and node.args.args:
            first = node.args.args[0].arg
            returns_first = any(isinstance(n, ast.Return) and isinstance(n.value, ast.Name)
                                and n.value.id == first for n in node.body)
            raises_type_error = any(
                isinstance(n, ast.Raise) and n.exc is not None and "TypeError" in ast.unparse(n.exc)
                for n in ast.walk(node))
            if returns_first and raises_type_error:
                for n in ast.walk(node):
                    if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                            and n.func.id == "isinstance" and len(n.args) == 2
                            and isinstance(n.args[0], ast.Name) and n.args[0].id == first):
                        cls = self.resolve(fn.__globals__, n.args[1])
                        if self.is_class(cls):
                            result = cls
        self._checkers[fn] = result
        return result

    def resolve(self, globs, node):
        """The object a Name or ``module.attr`` expression means in ``globs``."""
        if isinstance(node, ast.Name):
            return globs.get(node.id, getattr(__builtins__, node.id, None)
                             if not isinstance(__builtins__, dict) else __builtins__.get(node.id))
        if isinstance(node, ast.Attribute):
            base = self.resolve(globs, node.value)
            return getattr(base, node.attr, None) if base is not None else None
        return None

    # -- one function -------------------------------------------------------------------
    def analyze(self, fn, depth=0, typed=None, seen=None):
        """What ``fn`` uses, as lists: "calls" ((kind, qualname) of object-API
        members called), "reads" (properties read), "compat" ((function, call
        text) of public compat functions called), "unknown" (methods called on
        a local the analysis cannot type), "stdlib" (module functions called),
        and "touches" (whether any evloop object is involved at all)."""
        seen = set() if seen is None else seen
        info = {"calls": [], "reads": [], "compat": [], "unknown": [], "stdlib": [],
                "touches": []}
        if fn in seen or depth > MAX_DEPTH:
            return info
        seen = seen | {fn}
        node = self.tree(fn)
        globs = fn.__globals__
        types = dict(typed or {})  # local name -> evloop class
        if types:
            info["touches"].append(True)

        def type_of(expr):
            if isinstance(expr, ast.Name):
                return types.get(expr.id)
            if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
                target = globs.get(expr.func.id)
                if inspect.isfunction(target):
                    return self.checker_class(target)
            return None

        for n in ast.walk(node):
            # locals typed by assignment: e = _event(ev); e, what = _event(ev), _int(...)
            if isinstance(n, ast.Assign):
                for tgt in n.targets:
                    pairs = []
                    if isinstance(tgt, ast.Name):
                        pairs = [(tgt, n.value)]
                    elif isinstance(tgt, ast.Tuple) and isinstance(n.value, ast.Tuple):
                        pairs = list(zip(tgt.elts, n.value.elts, strict=False))
                    for t, v in pairs:
                        if isinstance(t, ast.Name):
                            cls = type_of(v)
                            if cls is None and isinstance(v, ast.Call):
                                callee = self.resolve(globs, v.func)
                                if self.is_class(callee):
                                    cls = callee
                            if cls is not None:
                                types[t.id] = cls
            # ... and by an inline check: if not isinstance(ev, Event): return 0
            elif (isinstance(n, ast.If) and isinstance(n.test, ast.UnaryOp)
                  and isinstance(n.test.op, ast.Not) and isinstance(n.test.operand, ast.Call)
                  and isinstance(n.test.operand.func, ast.Name)
                  and n.test.operand.func.id == "isinstance"
                  and isinstance(n.test.operand.args[0], ast.Name)
                  and isinstance(n.body[-1], (ast.Return, ast.Raise))):
                cls = self.resolve(globs, n.test.operand.args[1])
                if self.is_class(cls):
                    types[n.test.operand.args[0].id] = cls
        if types:
            info["touches"].append(True)

        # the value a helper returns on failure (_call(..., error=EvbufferPtr()))
        # is not the operation: skip keyword values of calls to private helpers
        skip = set()
        for n in ast.walk(node):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
                target = globs.get(n.func.id)
                if inspect.isfunction(target) and target not in self.public \
                        and target.__module__.startswith("evloop.compat"):
                    for kw in n.keywords:
                        skip |= {id(x) for x in ast.walk(kw.value)}

        # annotations (``cfg: EventConfig | None``) name classes, use nothing
        annotations = set()
        for n in ast.walk(node):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                every = n.args.posonlyargs + n.args.args + n.args.kwonlyargs + [
                    a for a in (n.args.vararg, n.args.kwarg) if a is not None]
                for ann in [a.annotation for a in every] + [n.returns]:
                    if ann is not None:
                        annotations |= {id(x) for x in ast.walk(ann)}
            elif isinstance(n, ast.AnnAssign):
                annotations |= {id(x) for x in ast.walk(n.annotation)}
        # the ``x.m`` of a call ``x.m()`` is a call, not a property read
        skip |= {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
        skip_reads = set(skip)
        for n in ast.walk(node):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Call):
                skip_reads |= {id(a) for a in n.func.args}  # getattr(b, "x", b.free)()

        for n in ast.walk(node):
            if id(n) in annotations:
                continue
            if id(n) in skip and isinstance(n, (ast.Call, ast.Attribute)):
                continue  # seen with the call that contains it, or an error value
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in types:
                value = globs.get(n.id)
                if self.is_class(value) or value is self.core:
                    info["touches"].append(True)
            # return LIBEVENT_VERSION: a constant of the compiled module
            if (isinstance(n, ast.Return) and isinstance(n.value, ast.Name)
                    and n.value.id in vars(self.core)
                    and globs.get(n.value.id) is getattr(self.core, n.value.id)
                    and not callable(globs.get(n.value.id))):
                info["reads"].append(("data", n.value.id))
                info["touches"].append(True)
            if not isinstance(n, ast.Call):
                if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load) \
                        and id(n) not in skip_reads:
                    cls = type_of(n.value)
                    if cls is not None:
                        info["reads"].append(("attribute", f"{cls.__name__}.{n.attr}"))
                continue
            func = n.func
            # getattr(obj, "name", default)()
            if (isinstance(func, ast.Call) and isinstance(func.func, ast.Name)
                    and func.func.id == "getattr" and len(func.args) >= 2
                    and isinstance(func.args[1], ast.Constant)):
                cls = type_of(func.args[0])
                if cls is not None:
                    info["calls"].append(("method", f"{cls.__name__}.{func.args[1].value}"))
                continue
            if isinstance(func, ast.Attribute):
                cls = type_of(func.value)
                if cls is not None:
                    info["calls"].append(("method", f"{cls.__name__}.{func.attr}"))
                    continue
                owner = self.resolve(globs, func.value)
                if self.is_class(owner):  # Bufferevent.pair(...), Listener.bind(...)
                    info["calls"].append(("classmethod", f"{owner.__name__}.{func.attr}"))
                elif owner is self.core:
                    info["calls"].append(("function", f"evloop.{func.attr}"))
                elif inspect.ismodule(owner):
                    info["stdlib"].append(ast.unparse(func))
                elif isinstance(func.value, ast.Name) and func.value.id not in globs:
                    info["unknown"].append(ast.unparse(func))
                continue
            if not isinstance(func, ast.Name):
                continue
            target = globs.get(func.id)
            if self.is_class(target):
                info["calls"].append(("constructor", target.__name__))
            elif target in self.public and target is not fn:
                info["compat"].append((target, ast.unparse(n)))
            elif inspect.isfunction(target) and target.__module__.startswith("evloop.compat") \
                    and self.checker_class(target) is None:
                # a private helper: follow it, its parameters typed by what
                # this call passes; what it calls on untyped things counts
                # only if it was handed evloop objects
                sub_params = [a.arg for a in self.tree(target).args.args]
                sub_types = {p: type_of(a) for p, a in zip(sub_params, n.args, strict=False)
                             if type_of(a)}
                sub = self.analyze(target, depth + 1, sub_types, seen)
                if not sub_types:
                    sub["unknown"] = []
                for key in info:
                    info[key] += sub[key]
                # a class or compiled function handed to a helper that runs
                # it: _call("event_base_new", EventBase, error=None)
                for arg in n.args:
                    if isinstance(arg, ast.Name) and self.is_class(globs.get(arg.id)):
                        info["calls"].append(("constructor", arg.id))
                    elif isinstance(arg, ast.Attribute) and self.resolve(globs, arg.value) is self.core:
                        info["calls"].append(("function", f"evloop.{arg.attr}"))
        return info

    # -- one row --------------------------------------------------------------------------
    def row(self, name, fn, depth=0):
        """(status, object-API text, notes) for the public compat function fn;
        status is "resolved", "wrapper", "python" or "noop"."""
        info = self.analyze(fn)
        calls = _unique(info["calls"])
        reads = _unique(info["reads"])
        compat = _unique([t for t, _ in info["compat"]])
        unknown = _unique(info["unknown"])
        plain = not info["touches"] and not calls and not reads and all(
            self.row(self.public[t], t, depth + 1)[0] in ("python", "noop") for t in compat)
        if plain and depth < MAX_DEPTH:
            if _is_noop(self.tree(fn)):
                return "noop", "—", "does nothing (kept for line-by-line ports)"
            used = [f"`{x}`" for x in _unique(info["stdlib"])] + [
                f"`{self.public[t]}`" for t in compat]
            return "python", "—", "Python only" + (": " + ", ".join(used) if used else "")
        if unknown:
            seen = ", ".join(_show(*c) for c in calls)
            return "wrapper", WRAPPER, (f"calls {seen}, and " if seen else "calls ") \
                + "methods of untyped values (" + ", ".join(f"`{u}`" for u in unknown) + ")"
        if calls:
            if len(calls) > 1:
                return "wrapper", WRAPPER, "calls " + ", ".join(_show(*c) for c in calls)
            notes = []
            owner = calls[0][1].split(".")[0]
            extra = [q for k, q in reads if k == "attribute" and q.split(".")[0] == owner]
            if extra:
                notes.append("also reads " + ", ".join(_ref(q) for q in extra))
            if compat:
                notes.append("falls back to " + ", ".join(f"`{self.public[t]}`" for t in compat))
            return "resolved", _show(*calls[0]), "; ".join(notes)
        if compat:
            if len(compat) > 1:
                return "wrapper", WRAPPER, "uses " + ", ".join(f"`{self.public[t]}`"
                                                               for t in compat)
            text = next(t for f, t in info["compat"] if f is compat[0])
            status, obj, notes = self.row(self.public[compat[0]], compat[0], depth + 1)
            sep = " → " if notes.startswith("as ") else "; "
            return status, obj, f"as `{text}`" + (sep + notes[3:] if sep == " → " else
                                                  (sep + notes if notes else ""))
        if len(reads) == 1:
            return "resolved", _show(*reads[0]), ""
        if reads:
            return "wrapper", WRAPPER, "reads " + ", ".join(_show(*r) for r in reads)
        return "wrapper", WRAPPER, ""


def _unique(items):
    out = []
    for it in items:
        if it not in out:
            out.append(it)
    return out


def _is_noop(node):
    body = [s for s in node.body if not (isinstance(s, ast.Expr)
                                         and isinstance(s.value, ast.Constant))]
    return all(isinstance(s, ast.Return) and (s.value is None or isinstance(s.value, ast.Constant))
               for s in body)


def _ref(qualname):
    return f"{{py:obj}}`{qualname} <evloop.{qualname}>`"


def _show(kind, qualname):
    if kind == "data":
        return f"{{py:data}}`{qualname} <evloop.{qualname}>`"
    if kind == "method":
        return f"{{py:meth}}`{qualname}() <evloop.{qualname}>`"
    if kind == "classmethod":
        return f"{{py:meth}}`{qualname}() <evloop.{qualname}>`"
    if kind == "constructor":
        return f"{{py:class}}`{qualname}(...) <evloop.{qualname}>`"
    if kind == "function":
        return f"{{py:func}}`{qualname}() <{qualname}>`"
    return _ref(qualname)


def _header(mod, fn):
    """The libevent header of ``fn``: its own docstring names a *_compat.h
    header where it comes from one (evbuffer_readline), else the module's."""
    own = re.search(r"\((event2/)?([a-z_]+_compat\.h)\)", fn.__doc__ or "")
    if own:
        return "event2/" + own.group(2)
    return re.search(r"``(event2/[a-z_]+\.h)``", mod.__doc__).group(1)


def build():
    core, mods = _load()
    an = Analyzer(core, mods)
    rows, statuses, counts = [], [], {"resolved": 0, "wrapper": 0, "python": 0, "noop": 0}
    for mod in mods:
        for name in mod.__all__:
            fn = getattr(mod, name)
            if not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
                continue
            status, obj, notes = an.row(name, fn)
            counts[status] += 1
            statuses.append((name, status))
            rows.append((_header(mod, fn), name, mod.__name__, obj, notes))
    return rows, counts, statuses


def render(rows, counts, statuses):
    total = sum(counts.values())
    python = [n for n, st in statuses if st == "python" and not n.startswith("evutil_")]
    noop = [n for n, st in statuses if st == "noop"]
    lines = [
        "# libevent 2.1 → evloop",
        "",
        "<!-- Generated by docs/gen_libevent_table.py from evloop/compat/*.py: do not edit;",
        "     run `python docs/gen_libevent_table.py` (tests/test_docs.py checks it is current). -->",
        "",
        f"Every libevent function `evloop.compat` implements ({total}), with the member of",
        "the object API (`evloop.EventBase`, `Event`, `Evbuffer`, `Bufferevent`, `Listener`,",
        "...) that its compat wrapper calls.  The compat function keeps libevent's name,",
        "argument order and 0/-1 (or `None` for `NULL`) return; the object API raises",
        "instead (see [the conventions](porting.md#the-conventions)).",
        "",
        "The table is generated from the wrappers' source: a row names an object-API",
        "member only where the wrapper calls exactly one; \"(wrapper: see docstring)\"",
        "marks a function that combines several (its reference entry explains it).",
        f"Of the {total}: {counts['resolved']} map to one object-API member,",
        f"{counts['wrapper']} are wrappers over several, {counts['python']} need no evloop object",
        "(the `evutil_*` socket and timeval helpers"
        + "".join(f", `{n}`" for n in python) + f") and {counts['noop']} do nothing in Python",
        "(" + ", ".join(f"`{n}`" for n in noop) + ").",
        "",
        "| header | libevent function (`evloop.compat`) | object API | notes |",
        "| --- | --- | --- | --- |",
    ]
    for header, name, module, obj, notes in rows:
        compat = f"{{py:func}}`{name} <{module}.{name}>`"
        lines.append(f"| `{header}` | {compat} | {obj} | {notes.replace('|', chr(92) + '|')} |")
    lines.append("")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if docs/libevent-table.md differs")
    ap.add_argument("-o", "--output", default=OUT)
    args = ap.parse_args(argv)
    rows, counts, statuses = build()
    text = render(rows, counts, statuses)
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print(f"{args.output} is stale: run python docs/gen_libevent_table.py", file=sys.stderr)
            return 1
        return 0
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {args.output}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
