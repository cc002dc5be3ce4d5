"""Run a Python module (`-m NAME`) or code (`-c CODE`) as __main__ and write this process's own peak RSS.

Linux carries the parent's peak over into a child's `ru_maxrss` (the high-water mark survives fork and
exec), so a small command started by a large bench would report the bench's memory. `VmHWM` in
/proc/self/status belongs to the process's own address space, so the probe reads that at exit.
"""

from __future__ import annotations

import resource
import runpy
import sys
from pathlib import Path


def peak_bytes() -> int:
    """This process's own peak resident memory (VmHWM), or ru_maxrss where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None or isinstance(exc.code, int):
        return int(exc.code or 0)
    print(exc.code, file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] not in ("-m", "-c"):
        print("usage: python -m lab.pipeline.probe OUT (-m MODULE | -c CODE) [ARGS...]", file=sys.stderr)
        return 2
    out, mode, target, *rest = argv
    code = 0
    try:
        if mode == "-m":
            sys.argv = [target, *rest]
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.argv = ["-c", *rest]
            exec(compile(target, "<probe>", "exec"), {"__name__": "__main__"})
    except SystemExit as exc:
        code = _exit_code(exc)
    finally:
        Path(out).write_text(str(peak_bytes()), encoding="utf-8")
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
