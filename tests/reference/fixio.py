"""fixio.py - write a reference fixture (the format tests/fixture.h reads).

    # free comment lines start with '#'
    tensor <name> <ndim> <d0> [<d1> ...]
    <values, whitespace separated, row-major, any line breaks>

Floating values are written with %.17g from float64, so C's strtod gets back
the exact double; integer tensors are written as integers.
"""
import os

import torch

PER_LINE = 6


def fmt_values(t):
    t = t.detach().contiguous().reshape(-1)
    if t.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        vals = ["%d" % int(v) for v in t.tolist()]
    else:
        assert t.dtype == torch.float64, "fixtures are computed in float64"
        vals = ["%.17g" % v for v in t.tolist()]
    return "\n".join(" ".join(vals[i:i + PER_LINE])
                     for i in range(0, len(vals), PER_LINE))


def write_fixture(path, comments, tensors):
    """comments: list of str (one line each); tensors: list of (name, tensor).
    Scalars are written as ndim 1, shape [1]."""
    names = [n for n, _ in tensors]
    assert len(names) == len(set(names)), "duplicate tensor names"
    lines = ["# " + c if c else "#" for c in comments]
    for name, t in tensors:
        assert " " not in name and len(name) < 96, name
        if t.dim() == 0:
            t = t.reshape(1)
        assert 1 <= t.dim() <= 4, (name, t.shape)
        lines.append("tensor %s %d %s" % (name, t.dim(),
                                          " ".join(str(d) for d in t.shape)))
        lines.append(fmt_values(t))
    tmp = path + ".tmp"
    with open(tmp, "w") as fp:
        fp.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
    print("wrote %s (%d tensors, %d bytes)" % (path, len(tensors), os.path.getsize(path)))


def here(name):
    """Path of `name` beside the calling script, whatever the working dir."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), name)


def header(script, config):
    return ["Reference fixture written by tests/reference/%s (PyTorch, float64)." % script,
            "Regenerate: apt-get install python3-torch && /usr/bin/python3 tests/reference/%s" % script,
            "Conventions (names, layouts, reductions): tests/reference/README.md",
            "Config: " + config,
            "torch " + torch.__version__]
