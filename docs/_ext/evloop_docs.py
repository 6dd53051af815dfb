"""Sphinx glue for evloop's documentation (loaded by docs/conf.py).

autodoc imports the compiled module ``evloop._evloop`` and gets what Cython
embedded in it (``embedsignature``): a first docstring line such as
``Bufferevent.write_buffer(self, Evbuffer buf)``, with Cython's C types and
C constant names and no return type, and no docstring at all for most
properties.  The typed contract of that module is its stub,
``evloop/_evloop.pyi`` (read here with ``ast``, never imported), so this
extension:

* replaces the embedded signature of every compiled class, method and
  function that has a stub by the stub's annotated one (defaults written
  ``...`` in the stub are taken from the compiled function); when the stub's
  parameter names differ from the compiled function's, the compiled
  signature is kept, since that is what callers meet;
* gives an undocumented compiled property its stub docstring and type;
* turns reST section titles inside docstrings ("Differences from libevent"
  underlined with dashes, as evloop.compat's module docstrings have them)
  into rubrics: docutils refuses sections inside a directive;
* provides ``.. evloop-stub-docstring::`` (the stub's module docstring: the
  conventions of the libevent face) and ``.. evloop-constants::`` (every
  constant ``evloop`` exports with its value, by family, with the stub's
  comment on it);
* makes Markdown links to repository files outside docs/ (such as
  ``[bench/README.md](../bench/README.md)`` in benchmarks.md) download links
  to those files, where MyST would look for a document of the site.
"""
import ast
import inspect
import os
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
STUB = ROOT / "evloop" / "_evloop.pyi"
COMPILED = "evloop._evloop"


# -- the stub ---------------------------------------------------------------------------

class Stub:
    """What docs need from evloop/_evloop.pyi: functions, class members,
    the comments on constants, the module docstring."""

    def __init__(self, path=STUB):
        self.text = path.read_text(encoding="utf-8")
        tree = ast.parse(self.text)
        self.docstring = ast.get_docstring(tree) or ""
        self.functions = {}   # "name" or "Class.name" -> FunctionDef
        self.attributes = {}  # "Class.name" -> (annotation, docstring or "")
        for node in _version_body(tree.body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                for item in _version_body(node.body):
                    key = f"{node.name}.{getattr(item, 'name', '')}"
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        if any(_decorator(d) == "property" for d in item.decorator_list):
                            ann = _annotation(item.returns) if item.returns else ""
                            self.attributes[key] = (ann, ast.get_docstring(item) or "")
                        else:
                            self.functions[key] = item
                    elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        key = f"{node.name}.{item.target.id}"
                        self.attributes[key] = (_annotation(item.annotation), "")
        self.constants = self._constants()

    def _constants(self):
        """name -> comment, from the stub's ``NAME: int  # 0x02`` lines."""
        out = {}
        for line in self.text.splitlines():
            m = re.match(r"([A-Z][A-Z0-9_]*)\s*:\s*(?:int|str)\s*(?:#\s*(.*))?$", line)
            if m:
                out[m.group(1)] = (m.group(2) or "").strip()
        return out


def _version_body(body):
    """The statements of ``body`` with ``if sys.version_info ...:`` blocks
    resolved for the running Python, as a type checker reads a stub."""
    out = []
    for node in body:
        if isinstance(node, ast.If):
            try:
                taken = eval(compile(ast.Expression(node.test), STUB.name, "eval"),
                             {"__builtins__": {}, "sys": sys})
            except Exception:  # not a version test: keep both branches
                out += _version_body(node.body) + _version_body(node.orelse)
                continue
            out += _version_body(node.body if taken else node.orelse)
        else:
            out.append(node)
    return out


def _decorator(node):
    return node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")


_stub = None


def stub():
    global _stub
    if _stub is None:
        _stub = Stub()
    return _stub


def _is_compiled(obj):
    module = getattr(obj, "__module__", None)
    if module is None:
        owner = getattr(obj, "__objclass__", None)
        module = getattr(owner, "__module__", None)
    return module == COMPILED


def _runtime_names(obj, signature):
    """The parameter names (without self/cls) of the compiled ``obj``: from
    inspect.signature() where Cython's binding gives one, else from the
    signature text embedded in its docstring ("(self, Evbuffer buf)")."""
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        params = None
    if params is not None and [p.kind for p in params][-2:] != [
            inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]:
        names = [p.name for p in params]
        defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    elif signature:
        names, defaults = [], {}
        for part in _split_args(signature.strip()[1:-1]):
            head = part.split("=", 1)[0].strip()
            if head and head != "*":
                names.append(re.split(r"[\s*]+", head)[-1])
    else:
        return None, {}
    return [n for n in names if n not in ("self", "cls")], defaults


def _split_args(text):
    """Split an argument list at its top-level commas."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


class _Unquote(ast.NodeTransformer):
    """``Optional["Event"]`` -> ``Optional[Event]``: forward references of a
    stub are quoted for Python, not for readers."""

    def visit_Constant(self, node):
        if isinstance(node.value, str) and node.value.isidentifier():
            return ast.Name(id=node.value, ctx=ast.Load())
        return node


def _annotation(node):
    return ast.unparse(_Unquote().visit(ast.parse(ast.unparse(node), mode="eval").body))


def _format(fn, names, runtime_default, skip_first):
    """The stub FunctionDef ``fn`` as ("(a: int, b: str = 'x')", "R"), or
    None when its parameter names are not the compiled function's."""
    args = fn.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = list(zip(positional, defaults, strict=True))
    if skip_first and params:
        params = params[1:]
    kwonly = list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    wanted = [a.arg for a, _ in params] + ([args.vararg.arg] if args.vararg else []) \
        + [a.arg for a, _ in kwonly] + ([args.kwarg.arg] if args.kwarg else [])
    if names is not None and wanted != names:
        return None

    def one(arg, default, prefix=""):
        text = prefix + arg.arg
        if arg.annotation is not None:
            text += f": {_annotation(arg.annotation)}"
        if default is not None:
            value = ast.unparse(default)
            if value == "..." and arg.arg in runtime_default:
                value = repr(runtime_default[arg.arg])
            text += f" = {value}" if arg.annotation is not None else f"={value}"
        return text

    parts = [one(a, d) for a, d in params]
    if args.vararg:
        parts.append(one(args.vararg, None, "*"))
    elif kwonly:
        parts.append("*")
    parts += [one(a, d) for a, d in kwonly]
    if args.kwarg:
        parts.append(one(args.kwarg, None, "**"))
    returns = _annotation(fn.returns) if fn.returns is not None else None
    return f"({', '.join(parts)})", returns


def process_signature(app, what, name, obj, options, signature, return_annotation):
    # The stub names a compiled member by its defining class: the engine's
    # call_soon is "Loop.call_soon" even when documented as EventLoop's.
    key = getattr(obj, "__qualname__", None) if _is_compiled(obj) else None
    # Without a signature of its own (a class whose __init__ takes nothing,
    # so Cython embedded none) autodoc 9.0 cannot take one from this event
    # (it assigns into an empty list): leave those alone.
    if key is None or signature is None:
        return None
    s = stub()
    if what == "class":
        # an extension type's __init__ is a slot wrapper (*args, **kwargs):
        # its names come from the embedded class signature
        fn, target, skip_first = s.functions.get(f"{key}.__init__"), None, True
    elif what in ("method", "function", "classmethod", "staticmethod"):
        fn = s.functions.get(key)
        # stub methods start with self or cls (the compiled ones have no
        # staticmethods); module-level functions have neither
        target, skip_first = obj, what != "function"
    else:
        return None
    if fn is None:
        return _drop_self(what, signature)
    if what == "class":
        names, runtime_default = _runtime_names(None, signature)
    else:
        names, runtime_default = _runtime_names(target, signature)
    formatted = _format(fn, names, runtime_default, skip_first)
    if formatted is None:
        logger.info("evloop_docs: the stub of %s does not match the compiled signature; "
                    "keeping the compiled one", name)
        return _drop_self(what, signature)
    if what == "class":
        return formatted[0], None
    return formatted


# ``callback(*args)`` in a plain-text docstring ("run callback(*args) in the
# next pass", the asyncio face's compiled call_soon/call_later/call_at and
# EventLoop.add_signal_handler) is a star-argument, but reST reads an
# unclosed emphasis and warns.  Escape exactly that form.
_STAR_ARGS = re.compile(r"(?<=[(,\s])(\*{1,2})(args|kwargs)\b(?!\*)")


def _drop_self(what, signature):
    """Cython's embedded signature of a method starts with ``self``, which
    a method's documented signature leaves out."""
    if what != "function" and signature:
        m = re.match(r"\(\s*(self|cls)\s*(,\s*|(?=\)))", signature)
        if m:
            return "(" + signature[m.end():], None
    return None


def process_docstring(app, what, name, obj, options, lines):
    _rubrics(lines)
    for i, line in enumerate(lines):
        if "*" in line:
            parts = re.split(r"(``.*?``)", line)  # leave inline literals alone
            parts[::2] = [_STAR_ARGS.sub(lambda m: "\\*" * len(m.group(1)) + m.group(2), p)
                          for p in parts[::2]]
            lines[i] = "".join(parts)
    if what not in ("attribute", "property"):
        return
    key = getattr(obj, "__qualname__", None) if _is_compiled(obj) else None
    if key is None or key not in stub().attributes or any(line.strip() for line in lines):
        return
    ann, doc = stub().attributes[key]
    if doc:
        lines.extend(doc.splitlines())
        lines.append("")
    if ann:
        lines.append(f"Type: ``{ann}``.")


def _rubrics(lines):
    """'Title' + '-----' inside a docstring -> '.. rubric:: Title' (in place)."""
    i = 0
    while i + 1 < len(lines):
        title, rule = lines[i].strip(), lines[i + 1].strip()
        if (title and rule and len(set(rule)) == 1 and rule[0] in "-=~^"
                and len(rule) >= len(title) and (i == 0 or not lines[i - 1].strip())):
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            lines[i:i + 2] = [f"{indent}.. rubric:: {title}", ""]
        i += 1


# -- directives ------------------------------------------------------------------------

class _Rst(Directive):
    """A directive whose content is generated reST."""

    def render(self, text):
        container = nodes.container()
        source = self.state_machine.document.current_source or "<evloop_docs>"
        self.state.nested_parse(StringList(text.splitlines(), source), self.content_offset,
                                container)
        return container.children


class StubDocstring(_Rst):
    """The module docstring of evloop/_evloop.pyi; with an argument, only its
    section of that title (``.. evloop-stub-docstring:: Conventions``)."""

    optional_arguments = 1
    final_argument_whitespace = True

    def run(self):
        self.state.document.settings.record_dependencies.add(str(STUB))
        lines = stub().docstring.splitlines()
        if self.arguments:
            title = self.arguments[0].strip()
            starts = [i for i in range(len(lines) - 1) if lines[i].strip() == title
                      and set(lines[i + 1].strip()) == {"-"}]
            if not starts:
                raise self.error(f"the stub's docstring has no section {title!r}")
            rest = lines[starts[0] + 2:]
            ends = [i for i in range(len(rest) - 1) if rest[i].strip()
                    and rest[i + 1].strip() and set(rest[i + 1].strip()) == {"-"}]
            lines = rest[:ends[0]] if ends else rest
        _rubrics(lines)
        return self.render("\n".join(lines))


# The constants by family: (title, name prefixes), the longest prefix wins.
CONSTANT_GROUPS = [
    ("Event flags (event.h)", ["EV_"]),
    ("Loop flags (event_base_loop)", ["EVLOOP_"]),
    ("Backend features (event_config_require_features)", ["EV_FEATURE_"]),
    ("event_config flags (event_config_set_flag)", ["EVENT_BASE_FLAG_"]),
    ("Event counts (event_base_get_num_events)", ["EVENT_BASE_COUNT_"]),
    ("Event states (event_struct.h, Event.flags)", ["EVLIST_"]),
    ("Evbuffer (buffer.h)", ["EVBUFFER_"]),
    ("Bufferevent events (bufferevent.h, eventcb's what)", ["BEV_EVENT_"]),
    ("Bufferevent options (bufferevent_socket_new)", ["BEV_OPT_"]),
    ("Bufferevent flush modes, triggers and filter results", ["BEV_"]),
    ("Listener options (listener.h)", ["LEV_OPT_"]),
    ("Limits and version", ["EVENT_MAX_PRIORITIES", "EV_RATE_LIMIT_MAX", "LIBEVENT_VERSION"]),
]


def _group_of(name):
    best, title = -1, "Other"
    for group, prefixes in CONSTANT_GROUPS:
        for prefix in prefixes:
            if name.startswith(prefix) and len(prefix) > best:
                best, title = len(prefix), group
    return title


class Constants(_Rst):
    """A table per family of the constants ``evloop`` exports, with the
    stub's comment on each."""

    def run(self):
        import evloop
        self.state.document.settings.record_dependencies.add(str(STUB))
        consts = stub().constants
        groups = {title: [] for title, _ in CONSTANT_GROUPS}
        for name in evloop.__all__:
            value = getattr(evloop, name)
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                continue
            comment = consts.get(name, "")
            groups.setdefault(_group_of(name), []).append((name, value, comment))
        out = []
        for section, rows in groups.items():
            if not rows:
                continue
            out += [f".. rubric:: {section}", "", ".. list-table::", "   :header-rows: 1",
                    "   :widths: 40 20 40", "", "   * - name", "     - value", "     - note"]
            for name, value, comment in rows:
                shown = f"0x{value:02x}" if isinstance(value, int) and comment.startswith("0x") \
                    else repr(value)
                # "0x02", "0: any run of CR/LF", "2**31 - 1": the value, then the note
                note = re.sub(r"^(0x[0-9a-fA-F]+|-?\d+|\"[^\"]*\")\s*(:\s*|$)", "", comment)
                note = note.replace("*", r"\*")
                out += [f"   * - ``{name}``", f"     - ``{shown}``", f"     - {note}"]
            out.append("")
        result = self.render("\n".join(out))
        # Make each name a py:data target (evloop.EV_READ), so that
        # {py:data}`LIBEVENT_VERSION <evloop.LIBEVENT_VERSION>` links here.
        domain = self.state.document.settings.env.get_domain("py")
        for node in result:
            for row in node.findall(nodes.row):
                entry = row.children[0]
                name = entry.astext().strip()
                if name != "name" and hasattr(evloop, name):
                    node_id = f"evloop.{name}"
                    entry["ids"].append(node_id)
                    domain.note_object(node_id, "data", node_id, location=entry)
        return result


# -- links to repository files -------------------------------------------------------------

class RepoFileLinks(SphinxTransform):
    """A MyST link to a Markdown file outside the source directory (MyST
    takes any ``.md`` target for a document) becomes a download link, as
    MyST already makes links to other existing files."""

    default_priority = 500

    def apply(self):
        srcdir = os.path.realpath(self.env.srcdir)
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("reftype") != "myst" or node.get("refdomain") != "doc":
                continue
            target = node.get("reftarget", "")
            path = os.path.realpath(target + ".md") if os.path.isabs(target) else None
            if path is None or path.startswith(srcdir + os.sep) or not os.path.isfile(path):
                continue
            docdir = os.path.dirname(self.env.doc2path(self.env.docname))
            link = addnodes.download_reference(
                "", "", *node.children, refdoc=self.env.docname, refexplicit=True,
                reftarget=os.path.relpath(path, docdir), reftype="myst", refdomain=None)
            node.replace_self(link)


def setup(app):
    app.connect("autodoc-process-signature", process_signature)
    app.connect("autodoc-process-docstring", process_docstring)
    app.add_directive("evloop-stub-docstring", StubDocstring)
    app.add_directive("evloop-constants", Constants)
    app.add_transform(RepoFileLinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
