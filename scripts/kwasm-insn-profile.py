#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Profile by symbol for `scripts/kwasm bench-calls --profile`.

    kwasm-insn-profile.py SYSTEM_MAP PROFILE RESULTS [TOP]

PROFILE is what kwasm-insn-plugin.c wrote with profile=FILE (per marked
run: "mark K", then "PC INSNS" per translation block); RESULTS the
MARK/mark lines of kwasm-bench-calls (which run each mark was). For every
operation and implementation, takes the first repetition's N and 2N runs
and prints the TOP symbols by instructions per operation (the 2N run minus
the N run, over the 3*N operations bench_calls adds). Addresses in module
space are compiled wasm code ("[wasm]"), below the canonical hole user
space ("[user]").
"""
import bisect
import collections
import sys


def load_symbols(path):
    addrs, names = [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tTwW":
                addrs.append(int(parts[0], 16))
                names.append(parts[2])
    order = sorted(range(len(addrs)), key=addrs.__getitem__)
    return [addrs[i] for i in order], [names[i] for i in order]


def symbol(addrs, names, pc):
    if pc < 0x800000000000:
        return "[user]"
    if 0xFFFFFFFFA0000000 <= pc < 0xFFFFFFFFFF000000:
        return "[wasm]"
    i = bisect.bisect_right(addrs, pc) - 1
    return names[i] if i >= 0 else "[other]"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    addrs, names = load_symbols(sys.argv[1])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 25
    marks, cur = {}, None
    with open(sys.argv[2]) as f:
        for line in f:
            parts = line.split()
            if parts[0] == "mark":
                cur = marks.setdefault(int(parts[1]), collections.Counter())
            else:
                cur[symbol(addrs, names, int(parts[0], 16))] += int(parts[1])
    runs = {}
    with open(sys.argv[3]) as f:
        for line in f:
            p = line.split()
            if p[0] == "MARK" and p[3] == "1":
                runs.setdefault((p[1], p[2]), []).append((int(p[4]), int(p[6])))
    for (op, impl), pair in runs.items():
        (n_small, m_small), (n_big, m_big) = sorted(pair)
        ops = 3 * (n_big - n_small)
        diff = collections.Counter(marks.get(m_big, {}))
        diff.subtract(marks.get(m_small, {}))
        total = sum(diff.values()) / ops
        print(f"\n{op} {impl}: {total:.0f} instructions per operation")
        for name, n in diff.most_common(top):
            if n / ops < 1:
                break
            print(f"  {n / ops:8.1f}  {name}")


if __name__ == "__main__":
    main()
