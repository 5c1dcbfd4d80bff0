#!/usr/bin/env python3
"""Checks `aex --json` output against the shapes documented in
docs/operations.md ("JSON output"): the ```shapes blocks there are read, not
copied, so the test fails when the document and the program disagree.

usage: json_shape.py DOC SHAPE [--lines] < output
  One JSON document on stdin must have shape SHAPE (with --lines: every
  line is one document of that shape, and there is at least one).

Notation of a shapes block: `Name = expression` per definition (indented
lines continue it). An expression is a JSON-like object whose keys are
exact (a key ending in `?` may be absent; `"*"` gives the shape of every
value of a map), `[T]` a list of T, `T|U` either, `true`/`false` that
value, and the types string, int, number, bool, null, object (any object).
Keys that a shape does not name are errors.
"""
import json
import re
import sys


class Shape:
    def __or__(self, other):
        return Union(self, wrap(other))

    def __ror__(self, other):
        return Union(wrap(other), self)


class Prim(Shape):
    def __init__(self, name, test):
        self.name, self.test = name, test

    def check(self, v, path):
        if not self.test(v):
            raise ValueError(f"{path}: expected {self.name}, got {json.dumps(v)[:200]}")


class Lit(Shape):
    def __init__(self, value):
        self.value = value

    def check(self, v, path):
        if v is not self.value and v != self.value or type(v) is not type(self.value):
            raise ValueError(f"{path}: expected {json.dumps(self.value)}, got {json.dumps(v)[:200]}")


class Union(Shape):
    def __init__(self, *alts):
        self.alts = alts

    def check(self, v, path):
        errors = []
        for a in self.alts:
            try:
                a.check(v, path)
                return
            except ValueError as e:
                errors.append(str(e))
        raise ValueError(" or ".join(errors))


class Obj(Shape):
    def __init__(self, fields):
        self.fields = fields

    def check(self, v, path):
        if not isinstance(v, dict):
            raise ValueError(f"{path}: expected an object, got {json.dumps(v)[:200]}")
        if "*" in self.fields:
            for k, x in v.items():
                self.fields["*"].check(x, f"{path}.{k}")
            return
        for key, shape in self.fields.items():
            name = key.rstrip("?")
            if name not in v:
                if not key.endswith("?"):
                    raise ValueError(f"{path}: missing key '{name}'")
                continue
            shape.check(v[name], f"{path}.{name}")
        known = {k.rstrip("?") for k in self.fields}
        extra = sorted(set(v) - known)
        if extra:
            raise ValueError(f"{path}: keys not in the documented shape: {extra}")


class List(Shape):
    def __init__(self, item):
        self.item = item

    def check(self, v, path):
        if not isinstance(v, list):
            raise ValueError(f"{path}: expected a list, got {json.dumps(v)[:200]}")
        for i, x in enumerate(v):
            self.item.check(x, f"{path}[{i}]")


class Ref(Shape):
    def __init__(self, table, name):
        self.table, self.name = table, name

    def check(self, v, path):
        self.table[self.name].check(v, path)


def wrap(x):
    if isinstance(x, Shape):
        return x
    if isinstance(x, dict):
        return Obj({k: wrap(s) for k, s in x.items()})
    if isinstance(x, list):
        if len(x) != 1:
            raise SyntaxError(f"a list shape has one item shape: {x}")
        return List(wrap(x[0]))
    if isinstance(x, (bool, int, str)) or x is None:
        return Lit(x)
    raise SyntaxError(f"not a shape: {x!r}")


def load(doc):
    text = open(doc, encoding="utf-8").read()
    defs = []
    for block in re.findall(r"```shapes\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if not line.strip():
                continue
            if line[0].isspace() and defs:
                defs[-1][1] += " " + line.strip()
            else:
                name, _, expr = line.partition("=")
                defs.append([name.strip(), expr.strip()])
    table = {}
    env = {
        "__builtins__": {},
        "string": Prim("string", lambda v: isinstance(v, str)),
        "int": Prim("int", lambda v: isinstance(v, int) and not isinstance(v, bool)),
        "number": Prim("number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
        "bool": Prim("bool", lambda v: isinstance(v, bool)),
        "null": Prim("null", lambda v: v is None),
        "object": Prim("object", lambda v: isinstance(v, dict)),
        "true": Lit(True),
        "false": Lit(False),
    }
    for name, _ in defs:
        env[name] = Ref(table, name)
    for name, expr in defs:
        table[name] = wrap(eval(expr, env))  # the project's own document
    return table


def main():
    doc, name = sys.argv[1], sys.argv[2]
    lines = "--lines" in sys.argv[3:]
    table = load(doc)
    if name not in table:
        sys.exit(f"{doc} documents no shape '{name}' (it has: {', '.join(sorted(table))})")
    raw = sys.stdin.read()
    docs = [l for l in raw.splitlines() if l.strip()] if lines else [raw]
    if not docs or not raw.strip():
        sys.exit(f"shape {name}: no output")
    for text in docs:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            sys.exit(f"shape {name}: not one JSON document ({e}): {text[:300]!r}")
        try:
            table[name].check(value, name)
        except ValueError as e:
            sys.exit(f"shape {name}: {e}")


if __name__ == "__main__":
    main()
