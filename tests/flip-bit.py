"""Flips the lowest bit of the byte at OFFSET in FILE, in place: a tamper that always
changes the file (writing a fixed byte into random data is a no-op 1 time in 256).

usage: python3 tests/flip-bit.py FILE OFFSET
"""
import sys

path, offset = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(offset)
    b = f.read(1)
    f.seek(offset)
    f.write(bytes([b[0] ^ 1]))
