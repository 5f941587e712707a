#!/usr/bin/env python3
"""badmaster.py PORT ZONE -- a hostile master for tests: answers SOA (serial 7)
over UDP and an AXFR over TCP that carries out-of-zone data (evil.example. A).
Test fixture only; stops by itself after 600 s."""
import socket, struct, sys, threading, time

port, zone = int(sys.argv[1]), sys.argv[2].rstrip('.')

def name(n):
    return b''.join(bytes([len(l)]) + l.encode() for l in n.split('.') if l) + b'\0'

def rr(owner, rtype, rdata, ttl=300):
    return name(owner) + struct.pack('!HHIH', rtype, 1, ttl, len(rdata)) + rdata

SOA = rr(zone, 6, name('ns1.' + zone) + name('h.' + zone) + struct.pack('!IIIII', 7, 3600, 600, 86400, 300))

def answer(q, records):
    qid, = struct.unpack('!H', q[:2])
    end = 12
    while q[end] != 0:
        end += q[end] + 1
    question = q[12:end + 5]
    return struct.pack('!HHHHHH', qid, 0x8400, 1, len(records), 0, 0) + question + b''.join(records)

def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', port))
    while True:
        q, a = s.recvfrom(4096)
        s.sendto(answer(q, [SOA]), a)

def tcp():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', port))
    s.listen(8)
    while True:
        c, _ = s.accept()
        try:
            n, = struct.unpack('!H', c.recv(2, socket.MSG_WAITALL))
            q = c.recv(n, socket.MSG_WAITALL)
            m = answer(q, [SOA, rr(zone, 2, name('ns1.' + zone)), rr('ns1.' + zone, 1, bytes([192, 0, 2, 1])),
                           rr('evil.example', 1, bytes([192, 0, 2, 66])), SOA])
            c.sendall(struct.pack('!H', len(m)) + m)
        finally:
            c.close()

for f in (udp, tcp):
    threading.Thread(target=f, daemon=True).start()
time.sleep(600)
