#!/usr/bin/env python3
"""Builds the Windows .ico and the macOS .icns of the app from the PNGs in icons/hicolor.

    dist/icons.py ico OUT.ico     # 16 to 256 px, for the installer, the shortcut and the uninstaller
    dist/icons.py icns OUT.icns   # 16 to 512 px, for Superset.app

Both formats can hold PNG images as they are, so nothing is decoded or resized: only the
Python standard library is needed, on any platform.
"""

import struct
import sys
from pathlib import Path

HICOLOR = Path(__file__).resolve().parent.parent / "icons" / "hicolor"

# An .ico entry per size; the directory gives 256 as 0.
ICO_SIZES = [16, 24, 32, 48, 64, 128, 256]

# The .icns type codes that hold a PNG of each size (macOS 10.7 and later).
ICNS_TYPES = [(16, b"icp4"), (32, b"icp5"), (64, b"icp6"), (128, b"ic07"), (256, b"ic08"), (512, b"ic09")]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png(size):
    """The PNG of the app's icon at `size` px, checked to be one and to be that size."""
    path = HICOLOR / f"{size}x{size}" / "apps" / "superset.png"
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        sys.exit(f"icons.py: {path} is not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    if (width, height) != (size, size):
        sys.exit(f"icons.py: {path} is {width}x{height}, not {size}x{size}")
    return data


def ico():
    images = [(size, png(size)) for size in ICO_SIZES]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    directory = b""
    for size, data in images:
        side = 0 if size == 256 else size
        # width, height, colours (0: no palette), reserved, planes, bits per pixel, bytes, offset
        directory += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return header + directory + b"".join(data for _, data in images)


def icns():
    body = b"".join(
        code + struct.pack(">I", 8 + len(data)) + data
        for code, data in ((code, png(size)) for size, code in ICNS_TYPES)
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("ico", "icns"):
        sys.exit(__doc__.strip())
    kind, out = sys.argv[1], Path(sys.argv[2])
    out.write_bytes(ico() if kind == "ico" else icns())


if __name__ == "__main__":
    main()
