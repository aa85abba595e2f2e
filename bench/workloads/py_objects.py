"""py_objects: an allocation-heavy pure-Python workload for bench/run.

Builds and throws away the things ordinary Python programs are made of:
dicts of records, lists of tuples, small class instances, f-strings,
split/join, sorting and grouping. The output is deterministic (seeded
PRNG, no hash() or set order in what is printed), so a profiled run must
print exactly what an unprofiled one prints.

Usage: python3 py_objects.py [SCALE]   (default 25000 records per round)
"""

import random
import sys
import zlib

WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo "
    "lima mike november oscar papa quebec romeo sierra tango uniform victor "
    "whiskey xray yankee zulu"
).split()
LEVELS = ("debug", "info", "warning", "error")


class Event:
    def __init__(self, ts, user, level, path, size, tags):
        self.ts = ts
        self.user = user
        self.level = level
        self.path = path
        self.size = size
        self.tags = tags

    def key(self):
        return (self.user, self.level, self.ts)


def make_lines(rng, n):
    """Log lines as text, the way they would arrive from a file."""
    lines = []
    for i in range(n):
        user = f"user{rng.randrange(2000):04d}"
        level = LEVELS[min(3, int(rng.expovariate(1.2)))]
        depth = rng.randrange(1, 6)
        path = "/" + "/".join(rng.choice(WORDS) for _ in range(depth))
        tags = ",".join(rng.sample(WORDS, rng.randrange(0, 4)))
        lines.append(f"{i * 7 + rng.randrange(7)} {user} {level} {path} "
                     f"{rng.randrange(16, 65536)} [{tags}]")
    return lines


def parse(lines):
    events = []
    for line in lines:
        ts, user, level, path, size, tags = line.split(" ")
        tags = tags[1:-1]
        events.append(Event(int(ts), user, level, path, int(size),
                            tags.split(",") if tags else []))
    return events


def aggregate(events):
    by_user = {}
    by_dir = {}
    tag_count = {}
    for ev in events:
        st = by_user.get(ev.user)
        if st is None:
            st = by_user[ev.user] = {"n": 0, "bytes": 0, "levels": {}, "paths": []}
        st["n"] += 1
        st["bytes"] += ev.size
        st["levels"][ev.level] = st["levels"].get(ev.level, 0) + 1
        st["paths"].append(ev.path)
        top = ev.path.split("/", 2)[1]
        by_dir.setdefault(top, []).append((ev.size, ev.ts))
        for t in ev.tags:
            tag_count[t] = tag_count.get(t, 0) + 1
    return by_user, by_dir, tag_count


def report(by_user, by_dir, tag_count):
    out = []
    heavy = sorted(by_user.items(), key=lambda kv: (-kv[1]["bytes"], kv[0]))[:20]
    for user, st in heavy:
        levels = " ".join(f"{k}={v}" for k, v in sorted(st["levels"].items()))
        uniq = len(dict.fromkeys(st["paths"]))
        out.append(f"{user} n={st['n']} bytes={st['bytes']} uniq={uniq} {levels}")
    for top in sorted(by_dir):
        sizes = sorted(s for s, _ in by_dir[top])
        mid = sizes[len(sizes) // 2]
        out.append(f"/{top} n={len(sizes)} median={mid} max={sizes[-1]}")
    for tag, n in sorted(tag_count.items(), key=lambda kv: (-kv[1], kv[0]))[:10]:
        out.append(f"tag {tag} {n}")
    return out


def render(events):
    """Serialise to a JSON-like text by hand: many short-lived strings."""
    parts = []
    for ev in events:
        tags = ", ".join(f'"{t}"' for t in ev.tags)
        parts.append(f'{{"ts": {ev.ts}, "user": "{ev.user}", '
                     f'"level": "{ev.level}", "path": "{ev.path}", '
                     f'"size": {ev.size}, "tags": [{tags}]}}')
    return "[" + ",\n".join(parts) + "]"


def main():
    scale = 25000
    if len(sys.argv) > 2:
        sys.exit("usage: py_objects.py [SCALE]")
    if len(sys.argv) == 2:
        try:
            scale = int(sys.argv[1])
            if scale < 1:
                raise ValueError
        except ValueError:
            sys.exit(f"py_objects: SCALE must be a positive integer, got {sys.argv[1]!r}")

    rng = random.Random(20240601)
    digest = 0
    for rnd in range(3):
        lines = make_lines(rng, scale)
        events = parse(lines)
        del lines
        events.sort(key=Event.key)
        text = render(events)
        digest = zlib.crc32(text.encode(), digest)
        del text
        out = report(*aggregate(events))
        digest = zlib.crc32("\n".join(out).encode(), digest)
        if rnd == 2:
            print("\n".join(out[:5]))
    print(f"py_objects: scale={scale} digest={digest:08x}")


if __name__ == "__main__":
    main()
