#!/usr/bin/env python3
"""Structure checks `make lint` runs on src/: no import circle between
modules that are not ancestor and descendant (a strongly connected group
of modules using each other through `crate::` or `super::` paths), and no
source file over 800 lines. Prints what breaks a rule; exit 1 if any."""
import os, re, sys, itertools
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
mods = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs') or d.startswith(os.path.join(root, 'bin')):
            continue
        p = os.path.join(d, f)
        rel = os.path.relpath(p, root)[:-3].split('/')
        if rel[-1] in ('mod', 'lib'):
            rel = rel[:-1]
        mods[tuple(rel)] = p
def resolve(path):
    # longest prefix that is a module
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in mods:
            return tuple(path[:n])
    return None
edges = {m: set() for m in mods}
for m, p in mods.items():
    src = open(p).read()
    src = re.sub(r'#\[cfg\(test\)\]\s*mod tests \{.*', '', src, flags=re.S)
    for mt in re.finditer(r'\b((?:crate|super)(?:::\w+)+|(?:crate|super)::\{[^}]*\})', src):
        text = mt.group(1)
        # expand simple brace groups
        base, _, rest = text.partition('::{')
        paths = [base + '::' + x.strip() for x in rest.rstrip('}').split(',')] if rest else [text]
        for t in paths:
            parts = t.split('::')
            cur = list(m if p.endswith('mod.rs') or p.endswith('lib.rs') else m[:-1]) if parts[0] == 'super' else []
            if parts[0] == 'super':
                # `super` of a mod.rs module is its parent; of a file module its parent too
                cur = list(m[:-1])
                parts = parts[1:]
                while parts and parts[0] == 'super':
                    cur = cur[:-1]; parts = parts[1:]
            else:
                parts = parts[1:]
            target = resolve(cur + [x for x in parts if x and x != 'self'])
            if target and target != m:
                edges[m].add(target)
def anc(a, b):
    return a[:len(b)] == b or b[:len(a)] == a
# strongly connected components over edges between unrelated modules
graph = {a: {b for b in edges[a] if not anc(a, b)} for a in mods}
index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in graph[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1:
            comps.append(sorted('/'.join(c) for c in comp))
for v in mods:
    if v not in index:
        visit(v)
for c in comps:
    print('import circle: ' + ' -> '.join(c))
MAX_LINES = 800
long = []
for d, _, fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p = os.path.join(d, f)
            n = sum(1 for _ in open(p))
            if n > MAX_LINES:
                long.append(p)
                print(f'{p}: {n} lines (at most {MAX_LINES})')
sys.exit(1 if comps or long else 0)
