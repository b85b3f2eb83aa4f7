"""The second process of an import: it reads the extract ahead of the first and works out each line's fingerprint
and adviser key, while the first loads the fingerprints the claims stand as and checks and stages the lines.

Both read the file in the same blocks (`read_block`: BLOCK_BYTES, then on to a line's end) and split them in the
same lines (`lines_of`), so the first takes the second's figures for a block by the block's offset in the file. A
block whose figures have not come (the second is behind, or read its blocks from other offsets after a quoted
record that went on past a block's end) the first works out itself, and tells the second where its next block
starts: the second goes on from there. If the second ends early, the first works every block out itself.

Run as ``python -I -S readahead.py PATH OFFSET BLOCK_BYTES SALT_HEX HEADER_JSON KEYS`` (ReadAhead does): the file's
lines from OFFSET on. It writes to stdout, for each block: a head (the block's offset, its lines, the length of the
new keys' part), the lines' fingerprints (FINGERPRINT_BYTES each, end to end), with KEYS=1 each line's adviser key
as a number (4 bytes each, native order: the numbers of keys first met in the file in that order) and the new keys
(pickled, a list of tuples of bytes, None for a line without them all); then a head with offset -1. It reads from
stdin where the first process's next block starts (TOLD), and never goes back. Standard library only, so it
starts in a few tens of milliseconds.
"""

from __future__ import annotations

import array
import functools
import hashlib
import json
import operator
import pickle
import os
import queue
import select
import struct
import subprocess
import sys
import threading

FINGERPRINT_BYTES = 8
HEAD = struct.Struct("<qII")  # the block's offset (-1: the end), its lines, the length of the new keys' part
TOLD = struct.Struct("<q")  # from the first process: where its next block starts
ADVISER_COLUMNS = ("adviser_id", "adviser_name", "team", "office")


def read_block(f, size: int) -> bytes:  # noqa: ANN001
    """The next block of a file opened in binary: `size` bytes, then on to the end of the line they stop in."""
    block = f.read(size)
    if block and not block.endswith(b"\n"):
        block += f.readline()
    return block


def lines_of(block: bytes) -> list[bytes]:
    """A block's lines, each without its "\\n" (a carriage return before it stays)."""
    lines = block.split(b"\n")
    if not lines[-1]:
        lines.pop()
    return lines


def salt_of(header_raw: bytes) -> bytes:
    """What a file's fingerprints are salted with: its header's own digest (the same line under another header
    says something else)."""
    return hashlib.blake2b(header_raw, digest_size=16).digest()


def fingerprinter(salt: bytes):  # noqa: ANN201
    """lines -> their fingerprints: FINGERPRINT_BYTES of BLAKE2b each, salted (salt_of)."""
    of = functools.partial(hashlib.blake2b, digest_size=FINGERPRINT_BYTES, salt=salt)
    digest = operator.methodcaller("digest")
    return lambda lines: list(map(digest, map(of, lines)))


def fingerprint_set(joined: bytes) -> set[bytes]:
    """The fingerprints end to end in `joined`, as a set: made from tuples of 4,096 (one Struct, in C)."""
    size = FINGERPRINT_BYTES
    n = len(joined) // size
    whole = n - n % 4096
    out: set[bytes] = set()
    for piece in struct.Struct(f"{size}s" * 4096).iter_unpack(memoryview(joined)[:whole * size]):
        out.update(piece)
    out.update(struct.Struct(f"{size}s" * (n - whole)).unpack(joined[whole * size:n * size]))
    return out


def adviser_key(header: list[str]):  # noqa: ANN201
    """(parts, picks, key, named): picks(parts(line)) gives a plain line's adviser_id, adviser_name, team and office
    (those the header has) as one tuple, the line split from its end only as far as the first of them (both C
    calls, for map); key(values) picks the same from a line's values; named(key) gives the four as text, "" for a
    column the header lacks."""
    present = [c for c in ADVISER_COLUMNS if c in header]
    at = [*(header.index(c) for c in present), header.index("adviser_id")]
    key = operator.itemgetter(*at)
    first = min(at)
    parts = operator.methodcaller("rsplit", b",", len(header) - first)
    picks = operator.itemgetter(*(p - first + (1 if first else 0) for p in at))

    def named(k: tuple[bytes, ...]) -> tuple[str, ...]:
        got = dict(zip(present, (v.decode() for v in k)))
        return tuple(got.get(c, "") for c in ADVISER_COLUMNS)

    return parts, picks, key, named


def keys_of(header: list[str]):  # noqa: ANN201
    """plain lines -> their adviser keys (None for a line short of the columns: it is not a known line)."""
    parts, picks, _, _ = adviser_key(header)
    unended = operator.methodcaller("rstrip", b"\r")

    def one(raw: bytes) -> tuple[bytes, ...] | None:
        try:
            return picks(parts(unended(raw)))
        except IndexError:
            return None

    def keys(lines: list[bytes]) -> list[tuple[bytes, ...] | None]:
        try:
            return list(map(picks, map(parts, map(unended, lines))))
        except IndexError:
            return list(map(one, lines))

    return keys


def start(path: str, offset: int, size: int, header: list[str], salt: bytes, with_keys: bool) -> ReadAhead | None:
    """The second process on a file's lines from `offset` on (None if it cannot be started: the import works every
    figure out itself)."""
    if not sys.executable:
        return None
    try:
        return ReadAhead(path, offset, size, header, salt, with_keys)
    except OSError:
        return None


class ReadAhead:
    """The second process, as the first sees it: started on a file's lines from `offset` on. `take(at, n, end)`
    gives the block at `at` (n lines, the next block at `end`) as its fingerprints and (with keys) its lines' adviser
    key numbers, `keys` being the keys by number; or None when the process has no figures for that block ready:
    the first then works that block out itself, and the process is told where the first's next block starts, so
    that it goes on from there (it is behind, or read its blocks from other offsets after a quoted record that
    went on past a block's end). The two share the work that way. `close()` stops it, whatever it is doing.
    With `wait` (tests), a block the process has not sent yet is waited for rather than worked out."""

    wait = False

    def __init__(self, path: str, offset: int, size: int, header: list[str], salt: bytes, with_keys: bool):
        # -I -S: the standard library only (nothing from the environment, the script's folder or site-packages).
        # Unbuffered, so that poll() says whether a block's figures have come (poll: any descriptor number, where
        # select() takes none past 1023, which a long-running app may reach).
        self._proc: subprocess.Popen | None = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__, path, str(offset), str(size), salt.hex(), json.dumps(header),
             "1" if with_keys else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
        )
        self._ready = select.poll()
        self._ready.register(self._proc.stdout, select.POLLIN)
        self._with_keys = with_keys
        self._next: tuple[int, int, bytes] | None = None  # a block's figures read and not yet taken
        self.keys: list[tuple[bytes, ...] | None] = []
        self.taken: list[int] = []  # the offsets of the blocks taken from it

    def take(self, at: int, n: int, end: int) -> tuple[tuple[bytes, ...], array.array | None] | None:
        while self._proc is not None:
            if self._next is None:
                if not self._ready.poll(None if self.wait else 0):
                    break
                self._next = self._read()
                continue
            offset, lines, data = self._next
            if offset < at:  # a block worked out here meanwhile, or one of other offsets: not wanted
                self._next = None
                continue
            if offset == at and lines == n:
                self._next = None
                self.taken.append(at)
                cut = lines * FINGERPRINT_BYTES
                # A Struct of its own, not struct.unpack's, which keeps the last hundred formats (1 MB each here).
                fingerprints = struct.Struct(f"{FINGERPRINT_BYTES}s" * lines).unpack(data[:cut])
                numbers = array.array("I", data[cut:]) if self._with_keys else None
                return fingerprints, numbers
            break
        self._tell(end)
        return None

    def _read(self) -> tuple[int, int, bytes] | None:
        """The next block's figures from the pipe (its new keys added to `keys`); None, and closed, at the end."""
        head = self._exactly(HEAD.size)
        if head is None:
            return self.close()
        offset, lines, new = HEAD.unpack(head)
        if offset < 0:
            return self.close()
        data = self._exactly(lines * (FINGERPRINT_BYTES + (4 if self._with_keys else 0)))
        keys = self._exactly(new) if new else b""
        if data is None or keys is None:
            return self.close()
        if keys:
            self.keys.extend(pickle.loads(keys))
        return offset, lines, data

    def _exactly(self, size: int) -> bytes | None:
        out = self._proc.stdout
        parts, got = [], 0
        while got < size:
            part = out.read(size - got)
            if not part:
                return None
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    def _tell(self, end: int) -> None:
        if self._proc is None:
            return
        try:
            self._proc.stdin.write(TOLD.pack(end))
        except OSError:  # it has ended
            self.close()

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc.stdout.close()
            self._proc.stdin.close()
            self._proc = None


def _main(argv: list[str]) -> int:
    path, offset, size, salt, header, with_keys = argv
    fingerprints = fingerprinter(bytes.fromhex(salt))
    keys = keys_of(json.loads(header)) if with_keys == "1" else None
    numbers: dict = {}
    out = sys.stdout.buffer
    # The blocks go out from a thread of their own, so the work goes on while the first process is busy elsewhere
    # (at most 64 blocks ahead: about 20 MB at 1,000,000 lines).
    frames: queue.Queue = queue.Queue(maxsize=64)

    def send() -> None:
        try:
            while (frame := frames.get()) is not None:
                out.write(frame)
            out.flush()
        except (BrokenPipeError, OSError):  # the first process has stopped reading: nothing more is wanted
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    told = b""
    with open(path, "rb") as f:
        f.seek(int(offset))
        while True:
            # Where the first process's next block starts, if it has said: it worked blocks out itself, so this
            # one goes on from there (never back).
            while select.select([0], [], [], 0)[0]:
                got = os.read(0, 4096)
                if not got:
                    break
                told += got
            if len(told) >= TOLD.size:
                whole = len(told) - len(told) % TOLD.size
                (ahead,) = TOLD.unpack(told[whole - TOLD.size:whole])
                told = told[whole:]
                if ahead > f.tell():
                    f.seek(ahead)
            at = f.tell()
            block = read_block(f, int(size))
            if not block:
                break
            lines = lines_of(block)
            parts = [b"".join(fingerprints(lines))]
            new = b""
            if keys is not None:
                ks = keys(lines)
                met = [k for k in dict.fromkeys(ks) if k not in numbers]  # in the order first met
                for k in met:
                    numbers[k] = len(numbers)
                parts.append(array.array("I", map(numbers.__getitem__, ks)).tobytes())
                if met:
                    new = pickle.dumps(met, protocol=5)
                    parts.append(new)
            frames.put(HEAD.pack(at, len(lines), len(new)) + b"".join(parts))
            if not sender.is_alive():
                return 0
    frames.put(HEAD.pack(-1, 0, 0))
    frames.put(None)
    sender.join()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
