#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The objects a prefix of the series must compile again.

    series-scope.py index OBJDIR > INDEX
    series-scope.py scope INDEX WIDE CHANGED_FILES CHANGED_SYMBOLS

OBJDIR is the object tree of the whole series (build/obj-debug). Of its
objects, those vmlinux.a holds are considered; their .*.o.cmd files say
what each was compiled from: its source, the headers it included and the
config symbols it tested. "index" reads them once and writes what it
found as JSON, for every prefix to use. CHANGED_FILES lists
the source files (paths in the tree) that differ between the prefix and
the whole series, CHANGED_SYMBOLS the config symbols (CONFIG_FOO) that
differ between their configs. An object is in scope when its source is
one of the files, or it includes one of them, or it tests one of the
symbols. A header or symbol more than WIDE objects depend on is "wide":
the objects depending on it only for its sake are left out (their only
difference is in what the series adds to that header) and the file or
symbol is named instead. The objects of drivers/pci/p2pmem/ are left to
the caller, who builds the directory as the prefix's Makefiles list it.

"scope" prints one line per object ("obj PATH.o") and per wide item
("wide PATH-or-CONFIG_FOO"). "index" fails when OBJDIR holds no objects.
"""
import json
import os
import re
import subprocess
import sys

SRC = 'linux-source-6.1/'


def tree_path(p):
    """A dependency as a path in the source tree, or None if generated."""
    i = p.find(SRC)
    return p[i + len(SRC):] if i >= 0 else None


def index(objdir):
    """{object of vmlinux: set of tree paths and CONFIG_ symbols it uses}"""
    members = subprocess.run(['ar', 't', 'vmlinux.a'], cwd=objdir,
                             capture_output=True, text=True, check=True)
    deps = {}
    for rel in members.stdout.split():
        d, f = os.path.split(rel)
        cmd = os.path.join(objdir, d, '.' + f + '.cmd')
        if not os.path.exists(cmd):
            continue
        mine = set()
        with open(cmd, errors='replace') as fh:
            for line in fh:
                if line.startswith('source_'):
                    src = tree_path(line.split(':=', 1)[1].strip())
                    if src:
                        mine.add(src)
                    continue
                if not line.startswith(' '):
                    continue
                m = re.search(r'\$\(wildcard include/config/(\w+)\)', line)
                if m:
                    mine.add('CONFIG_' + m.group(1))
                    continue
                p = tree_path(line.strip().rstrip('\\').strip())
                if p:
                    mine.add(p)
        deps[rel] = mine
    return deps


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'index':
        deps = index(sys.argv[2])
        if not deps:
            sys.exit('series-scope: no objects of vmlinux.a in %s' %
                     sys.argv[2])
        # Inverted: for every file and symbol, the objects that use it.
        objs = sorted(deps)
        users = {}
        for i, obj in enumerate(objs):
            for item in deps[obj]:
                users.setdefault(item, []).append(i)
        json.dump({'objs': objs, 'users': users}, sys.stdout)
        return
    if len(sys.argv) != 6 or sys.argv[1] != 'scope':
        sys.exit(__doc__)
    with open(sys.argv[2]) as fh:
        idx = json.load(fh)
    objs, users = idx['objs'], idx['users']
    if not objs:
        sys.exit('series-scope: the index holds no objects')
    wide = int(sys.argv[3])
    with open(sys.argv[4]) as fh:
        files = {line.strip() for line in fh if line.strip()}
    with open(sys.argv[5]) as fh:
        syms = {line.strip() for line in fh if line.strip()}
    changed = files | syms
    wide_items = {i for i in changed if len(users.get(i, [])) > wide}
    scope = set()
    for item in changed - wide_items:
        scope.update(objs[i] for i in users.get(item, []))
    for obj in sorted(scope):
        if not obj.startswith('drivers/pci/p2pmem/'):
            print('obj', obj)
    for item in sorted(wide_items):
        print('wide', item)


if __name__ == '__main__':
    main()
