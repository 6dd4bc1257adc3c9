#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge the results of make check against harness/expected-results.

  results.py kunit RUN JSON CONSOLE RC OUT [--iommu yes|no]
      one KUnit run: kunit.py's --json file, the kernel console, the exit
      status of kunit.py
  results.py scenario NAME CONSOLE OUT [--kmemleak]
      one QEMU scenario run
  results.py summary RESULTS
      the per-step table and the closing "N passed, N failed, N skipped"

Each judged run writes "passed failed skipped" to OUT. Everything that is
not as expected counts as a failure, with a line saying why: a missing
suite, a case more or less than the manifest lists, a skip it does not
allow, no plan line, a check number without a result, a scenario that did
not end with rc=0, a kernel splat, a kmemleak report, an IOMMU that is not
there (or is there when it must not be).
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.environ.get('P2PMEM_EXPECTED',
                          os.path.join(HERE, 'expected-results'))

SPLAT = re.compile(r'BUG:|WARNING:|KASAN|UBSAN:|kernel BUG at|invalid opcode|'
                   r'divide error|stack segment|general protection|'
                   r'Kernel panic|Oops|Call Trace:|circular locking|'
                   r'inconsistent lock|lock held|possible recursive locking|'
                   r'suspicious RCU usage|INFO: task .* blocked|'
                   r'INFO: rcu|rcu: INFO:|detected stall|soft lockup|'
                   r'hard LOCKUP')
# PCI endpoints the runs use as DMA clients: NVMe (class 010802) and
# ivshmem (1af4:1110), as the kernel lists them while scanning.
CLIENT = re.compile(r'pci (\S+): \[(?:[0-9a-f]{4}:[0-9a-f]{4}\] type 00 '
                    r'class 0x010802|1af4:1110\] type 00)')
IOMMU_ON = 'DMAR: Intel(R) Virtualization Technology for Directed I/O'


def manifest():
    m = {'step': [], 'kunit': {}, 'scenario': {}, 'skip': set(), 'known': {}}
    with open(MANIFEST) as f:
        for line in f:
            w = line.split('#', 1)[0].split()
            if not w:
                continue
            if w[0] == 'step':
                m['step'].append(w[1])
            elif w[0] == 'kunit':
                m['kunit'][w[1]] = int(w[2])
            elif w[0] == 'scenario':
                m['scenario'][w[1]] = int(w[2])
            elif w[0] == 'skip':
                m['skip'].add((w[1], w[2]))
            elif w[0] == 'known-lockdep':
                m['known'].setdefault(w[1], []).append(w[2])
            else:
                sys.exit(f'results.py: {MANIFEST}: bad line: {line.strip()}')
    return m


class Tally:
    def __init__(self, name):
        self.name, self.p, self.f, self.s = name, 0, 0, 0

    def ok(self, msg=None):
        self.p += 1
        if msg:
            print(f'  {self.name}: ok: {msg}')

    def bad(self, msg):
        self.f += 1
        print(f'  {self.name}: not ok: {msg}')

    def write(self, out):
        with open(out, 'w') as f:
            f.write(f'{self.p} {self.f} {self.s}\n')
        print(f'  {self.name}: {self.p} passed, {self.f} failed, '
              f'{self.s} skipped')
        return 0 if self.f == 0 else 1


def read(path):
    try:
        with open(path, errors='backslashreplace') as f:
            return f.read().replace('\r', '')
    except OSError:
        return None


def strip_known_lockdep(t, console, funcs):
    """Drop the lockdep reports the manifest knows for this scenario: a
    circular-dependency report whose lock wanted and lock held were both
    taken in one of @funcs (a base-kernel report, see the manifest). The
    report ends with its stack trace; each one dropped is named."""
    if not funcs:
        return console
    lines = console.splitlines()
    keep, i = [], 0
    while i < len(lines):
        if 'possible circular locking dependency detected' not in lines[i]:
            keep.append(lines[i])
            i += 1
            continue
        j = i
        while j < len(lines) and '</TASK>' not in lines[j]:
            j += 1
        block = lines[i:j + 1]
        want = [block[k + 1] for k in range(len(block) - 1)
                if 'is trying to acquire lock' in block[k]]
        held = [block[k + 1] for k in range(len(block) - 1)
                if 'but task is already holding lock' in block[k]]
        known = [f for f in funcs
                 if want and held and f in want[0] and f in held[0]]
        if j < len(lines) and known:
            t.ok(f'known base-kernel lockdep report in {known[0]} (allowed by the manifest)')
            if keep and keep[-1].startswith('====='):
                keep.pop()
            i = j + 1
        else:
            keep.append(lines[i])
            i += 1
    return '\n'.join(keep)


def check_splat(t, console, what):
    hits = [l for l in console.splitlines() if SPLAT.search(l)]
    if hits:
        t.bad(f'kernel splat during {what}:')
        for l in hits[:8]:
            print(f'      {l}')
    else:
        t.ok(f'no kernel splat during {what}')


def check_iommu_console(t, console, want):
    """KUnit consoles are at the default loglevel: the IOMMU's messages show."""
    clients = sorted(set(CLIENT.findall(console)))
    grouped = set(re.findall(r'pci (\S+): Adding to iommu group', console))
    on = IOMMU_ON in console
    if not clients:
        t.bad('no NVMe or ivshmem client was found on the console')
        return
    if want == 'yes':
        if on and all(c in grouped for c in clients):
            t.ok(f'intel-iommu is on and all {len(clients)} clients are in '
                 f'IOMMU groups')
        else:
            t.bad('intel-iommu expected: "%s" %s; clients without a group: %s'
                  % (IOMMU_ON, 'seen' if on else 'missing',
                     ' '.join(c for c in clients if c not in grouped) or
                     'none'))
    else:
        if not on and not grouped:
            t.ok(f'no IOMMU, as expected ({len(clients)} clients)')
        else:
            t.bad('an IOMMU is on in a run that must have none')


def kunit(args):
    run, jpath, cpath, rc, out = args[:5]
    opts = dict(zip(args[5::2], args[6::2]))
    m = manifest()
    t = Tally(run)
    console = read(cpath)
    if rc != '0':
        t.bad(f'kunit.py exited with status {rc}')
    try:
        with open(jpath) as f:
            top = json.load(f)
    except (OSError, ValueError) as e:
        t.bad(f'no KUnit results ({jpath}: {e})')
        top = {'sub_groups': [], 'test_cases': []}
    suites = {g['name']: g for g in top.get('sub_groups', [])}
    for c in top.get('test_cases', []):
        t.bad(f'result outside any suite: {c["name"]} {c["status"]}')
    for name, want in m['kunit'].items():
        g = suites.pop(name, None)
        if g is None:
            t.bad(f'suite {name} did not run ({want} cases expected)')
            continue
        cases = g.get('test_cases', [])
        if g.get('sub_groups'):
            t.bad(f'suite {name} has nested groups')
        if len(cases) != want:
            t.bad(f'suite {name} reported {len(cases)} cases, expected {want}')
        npass = 0
        for c in cases:
            st, cn = c['status'], c['name']
            if st == 'PASS':
                t.ok()
                npass += 1
            elif st == 'SKIP' and (run, f'{name}.{cn}') in m['skip']:
                t.s += 1
                print(f'  {run}: skip (allowed): {name}.{cn}')
            elif st == 'SKIP':
                t.bad(f'{name}.{cn} skipped, which the manifest does not allow')
            else:
                t.bad(f'{name}.{cn} {st}')
        print(f'  {run}: {name}: {npass} of {want} passed')
    for name in suites:
        t.bad(f'suite {name} is not in harness/expected-results')
    if console is None:
        t.bad(f'no console log {cpath}')
    else:
        check_splat(t, console, 'the KUnit run')
        if '--iommu' in opts:
            check_iommu_console(t, console, opts['--iommu'])
    return t.write(out)


def scenario(args):
    name, cpath, out = args[:3]
    flags = args[3:]
    m = manifest()
    tag = os.path.basename(out)
    t = Tally(tag)
    console = read(cpath)
    if console is None:
        t.bad(f'no console log {cpath}')
        return t.write(out)
    lines = console.splitlines()
    begin = [i for i, l in enumerate(lines)
             if l.endswith(f'P2PMEM-SCENARIO-BEGIN {name}')]
    end = [i for i, l in enumerate(lines) if l.startswith('P2PMEM-SCENARIO-END')]
    want = m['scenario'].get(name)
    if want is None:
        t.bad(f'scenario {name} is not in harness/expected-results')
    if not begin:
        t.bad(f'scenario {name} never started')
        body = []
    else:
        body = lines[begin[0] + 1:end[0] if end else len(lines)]
    results = {}
    plan = None
    for l in body:
        r = re.match(r'(ok|not ok) (\d+) (.*)', l)
        if r:
            k = int(r.group(2))
            if k in results:
                t.bad(f'check {k} reported twice')
            results[k] = (r.group(1), r.group(3))
            print(f'  {tag}: {l}')
        elif re.match(r'1\.\.\d+$', l):
            plan = int(l[3:])
        elif l.startswith('# '):
            print(f'  {tag}: {l}')
    for k in sorted(results):
        st, desc = results[k]
        if st == 'ok':
            t.ok()
        else:
            t.bad(f'check {k}: {desc}')
    if plan is None:
        t.bad('no plan line (1..N): the scenario did not finish')
    elif want is not None and plan != want:
        t.bad(f'plan is 1..{plan}, the manifest expects 1..{want}')
    n = plan if plan is not None else (want or 0)
    missing = [k for k in range(1, n + 1) if k not in results]
    extra = [k for k in results if k > n]
    if missing:
        t.bad('checks without a result line: ' + ' '.join(map(str, missing)))
    if extra:
        t.bad('results beyond the plan: ' + ' '.join(map(str, extra)))
    completed = bool(end)
    if not completed:
        t.bad('no P2PMEM-SCENARIO-END: the guest died or timed out')
    else:
        rc = lines[end[0]].split('rc=', 1)[-1].strip()
        if rc != '0':
            t.bad(f'scenario ended with rc={rc}')
    if completed:
        console = strip_known_lockdep(t, console, m['known'].get(name))
        check_splat(t, console, f'scenario {name}')
    else:
        t.bad('no verdict on kernel splats: the scenario did not complete')
    if '--kmemleak' in flags:
        if not any(l.startswith('P2PMEM-KMEMLEAK-SCANNED') for l in lines):
            t.bad('kmemleak was never scanned')
        elif 'unreferenced object' in console:
            t.bad('kmemleak reports leaks')
        else:
            t.ok('kmemleak: two scans past the minimum age found nothing')
    return t.write(out)


def summary(args):
    rdir = args[0]
    m = manifest()
    p = f = s = 0
    durations = []
    dpath = os.path.join(rdir, 'durations')
    if os.path.exists(dpath):
        with open(dpath) as fh:
            durations = [l.split() for l in fh if l.strip()]
    print('-' * 64)
    print(f'{"step":32} {"passed":>6} {"failed":>6} {"skipped":>7}')
    seen = set()
    names = m['step'] + sorted(n for n in os.listdir(rdir)
                               if n not in m['step'] and n != 'durations')
    for n in names:
        path = os.path.join(rdir, n)
        if not os.path.exists(path):
            print(f'{n:32} {"-":>6} {1:>6} {"-":>7}  no result: did not run')
            f += 1
            continue
        seen.add(n)
        with open(path) as fh:
            a, b, c = (int(x) for x in fh.read().split()[:3])
        note = '' if n in m['step'] else '  (not in the manifest)'
        if note:
            b += 1
        print(f'{n:32} {a:6} {b:6} {c:7}{note}')
        p, f, s = p + a, f + b, s + c
    if durations:
        print('-' * 64)
        print('time per step:')
        for name, sec in durations:
            print(f'  {name:30} {int(sec) // 60:3d} min {int(sec) % 60:02d} s')
    base = read(os.path.join(rdir, '..', 'base-version'))
    print(f'base: {base.strip() if base else "unknown (prepare-tree.sh did not run)"}')
    print(f'{p} passed, {f} failed, {s} skipped')
    return 0 if f == 0 else 1


if __name__ == '__main__':
    cmd = {'kunit': kunit, 'scenario': scenario, 'summary': summary}
    if len(sys.argv) < 2 or sys.argv[1] not in cmd:
        sys.exit(__doc__)
    sys.exit(cmd[sys.argv[1]](sys.argv[2:]))
