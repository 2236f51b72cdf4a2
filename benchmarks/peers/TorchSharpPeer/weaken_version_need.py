#!/usr/bin/python3
"""Marks one symbol-version requirement of an ELF shared library as weak, so an older libstdc++ can load it.

TorchSharp 0.107's thin wrapper, libLibTorchSharp.so, was linked by GCC 13 and so asks for GLIBCXX_3.4.32. The only
symbol it takes at that version is std::ios_base_library_init(), which GCC 13's <iostream> names to pull in the
stream initialisers and which no relocation ever calls (`readelf -r` lists none). Debian 12's libstdc++ stops at
GLIBCXX_3.4.30, so the loader refuses the library. Setting VER_FLG_WEAK on that one requirement turns the refusal
into a note (glibc's dl-version.c: "If it was a weak reference it is not fatal"). LibTorch itself (libtorch_cpu.so,
where all the arithmetic runs) asks for GLIBCXX_3.4.26 and is not touched.

Usage: weaken_version_need.py LIBRARY VERSION [VERSION ...]. Prints what it changed; changing nothing is fine.
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def c_string(data, offset):
    return data[offset:data.index(b"\0", offset)].decode("ascii")


def weaken(path, versions):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"{path}: not a little-endian 64-bit ELF file")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    changed = []
    for _, kind, _, _, offset, _, link, count, _, _ in sections:
        if kind != SHT_GNU_VERNEED:
            continue
        strings = sections[link][4]
        need = offset
        for _ in range(count):
            _, aux_count, file_name, aux, next_need = struct.unpack_from("<HHIII", data, need)
            entry = need + aux
            for _ in range(aux_count):
                _, flags, _, name, next_aux = struct.unpack_from("<IHHII", data, entry)
                version = c_string(data, strings + name)
                if version in versions and not flags & VER_FLG_WEAK:
                    struct.pack_into("<H", data, entry + 4, flags | VER_FLG_WEAK)
                    changed.append(f"{c_string(data, strings + file_name)} {version}")
                entry += next_aux
            need += next_need
    if changed:
        with open(path, "wb") as f:
            f.write(data)
    print(f"{path}: {'weakened ' + ', '.join(changed) if changed else 'nothing to weaken'}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    weaken(sys.argv[1], set(sys.argv[2:]))
