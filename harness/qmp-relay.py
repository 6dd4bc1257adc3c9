#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Let a guest drive its own QEMU monitor.

    qmp-relay.py SOCKET CONSOLE-LOG

Connects to QEMU's QMP socket, follows the guest's console log as QEMU
writes it, and sends every command a guest line of the form

    P2PMEM-QMP {"execute": "device_del", "arguments": {"id": "cmbnvme"}}

asks for, in order, each once. Prints each command and QEMU's answer (and
the events that came meanwhile) on stdout; the guest sees only the effect
(the device going or coming). Ends when QEMU closes the socket.
"""
import json
import re
import socket
import sys
import time

REQUEST = re.compile(r'P2PMEM-QMP (\{.*\})\s*$')


def connect(path):
    for _ in range(300):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            time.sleep(0.1)
    sys.exit(f'qmp-relay: no QMP socket at {path}')


class Qmp:
    def __init__(self, path):
        self.sock = connect(path)
        self.buf = b''
        self.read()                     # the greeting
        self.command({'execute': 'qmp_capabilities'})

    def read(self):
        while b'\n' not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def command(self, cmd):
        self.sock.sendall(json.dumps(cmd).encode() + b'\n')
        while True:
            msg = self.read()
            if 'event' in msg:
                print(f'qmp-relay: event {msg["event"]} {msg.get("data", {})}', flush=True)
                continue
            return msg


def main():
    sock, log = sys.argv[1], sys.argv[2]
    qmp = Qmp(sock)
    qmp.sock.settimeout(0.2)
    pos = 0
    partial = ''
    try:
        while True:
            try:
                msg = qmp.read()
                if 'event' in msg:
                    print(f'qmp-relay: event {msg["event"]} {msg.get("data", {})}',
                          flush=True)
            except socket.timeout:
                pass
            try:
                with open(log, errors='replace') as f:
                    f.seek(pos)
                    text = f.read()
                    pos = f.tell()
            except FileNotFoundError:
                continue
            lines = (partial + text).split('\n')
            partial = lines.pop()
            for line in lines:
                m = REQUEST.search(line.replace('\r', ''))
                if not m:
                    continue
                try:
                    cmd = json.loads(m.group(1))
                except ValueError:
                    print(f'qmp-relay: not JSON: {m.group(1)}', flush=True)
                    continue
                qmp.sock.settimeout(None)
                answer = qmp.command(cmd)
                qmp.sock.settimeout(0.2)
                print(f'qmp-relay: {json.dumps(cmd)} -> {json.dumps(answer)}', flush=True)
    except (EOFError, ConnectionError):
        pass


if __name__ == '__main__':
    main()
