"""py_objects: an allocation-heavy pure-Python workload for bench/run.

Builds and throws away the things ordinary Python programs are made of:
records as dicts and as class instances, lists of tuples, f-strings,
split/join, sorting and grouping. Python serves objects up to 512 bytes
from its own arenas, so what reaches malloc are the larger ones: the
16-field record dicts, grown lists, long joined strings. The output is
deterministic (seeded PRNG, no hash() or set order in what is printed),
so a profiled run must print exactly what an unprofiled one prints.

Usage: python3 py_objects.py [SCALE]   (default 7000 records per round)
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
METHODS = ("GET", "GET", "GET", "POST", "PUT", "DELETE")
FIELDS = ("ts", "user", "level", "path", "size", "tags", "host", "pid", "method",
          "status", "latency_us", "region", "trace", "session", "retries", "agent",
          "msg")


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
    """Tab-separated log lines, the way they would arrive from a file;
    with a browser user agent and a free-text message, most are 400 to
    900 bytes long."""
    lines = []
    for i in range(n):
        depth = rng.randrange(1, 6)
        fields = [
            str(i * 7 + rng.randrange(7)),
            f"user{rng.randrange(2000):04d}",
            LEVELS[min(3, int(rng.expovariate(1.2)))],
            "/" + "/".join(rng.choice(WORDS) for _ in range(depth)),
            str(rng.randrange(16, 65536)),
            "[" + ",".join(rng.sample(WORDS, rng.randrange(0, 4))) + "]",
            f"host{rng.randrange(64):02d}",
            str(rng.randrange(1, 32768)),
            rng.choice(METHODS),
            str(rng.choice((200, 200, 200, 204, 304, 404, 500))),
            str(rng.randrange(50, 250000)),
            f"{rng.choice(WORDS)}-{rng.randrange(4)}",
            f"{rng.getrandbits(64):016x}",
            f"s{rng.randrange(10000)}",
            str(min(5, int(rng.expovariate(2.0)))),
            f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{rng.randrange(90, 125)}.0.{rng.randrange(6000)}.{rng.randrange(200)} "
            f"Safari/537.36",
            " ".join(rng.choice(WORDS) for _ in range(rng.randrange(10, 80))),
        ]
        lines.append("\t".join(fields) + "\n")
    return lines


def parse(lines):
    """Each line to a dict, as a JSON or CSV reader would give it, then to
    an object."""
    events = []
    for line in lines:
        rec = dict(zip(FIELDS, line.rstrip("\n").split("\t")))
        for k in ("ts", "size", "pid", "status", "latency_us", "retries"):
            rec[k] = int(rec[k])
        tags = rec["tags"][1:-1]
        rec["tags"] = tags.split(",") if tags else []
        rec["slow"] = rec["latency_us"] > 100000
        rec["words"] = len(rec["msg"].split())
        rec["msg"] = rec["msg"].capitalize() + "."
        ev = Event(rec["ts"], rec["user"], rec["level"], rec["path"], rec["size"], rec["tags"])
        ev.rec = rec
        events.append(ev)
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
    """Serialise to a JSON-like text by hand, in chunks of 50 records."""
    chunks = []
    for start in range(0, len(events), 50):
        parts = []
        for ev in events[start:start + 50]:
            fields = []
            for k, v in ev.rec.items():
                if isinstance(v, list):
                    v = "[" + ", ".join(f'"{t}"' for t in v) + "]"
                elif isinstance(v, str):
                    v = f'"{v}"'
                fields.append(f'"{k}": {v}')
            parts.append("{" + ", ".join(fields) + "}")
        chunks.append(",\n".join(parts))
    return "[" + ",\n".join(chunks) + "]"


def main():
    scale = 7000
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
