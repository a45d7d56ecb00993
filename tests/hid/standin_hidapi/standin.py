"""Build and load the stand-in hidapi library (``hidapi_standin.c``) beneath the real ``hid`` package.

Used by ``tests/hid/test_hidapi.py`` and ``benchmarks/bench_transport.py``. :func:`load_standin` compiles
the library with the C compiler (cached by source hash), loads it by absolute path with ``RTLD_GLOBAL``
and makes sure ``import hid`` binds to it: the library's soname is ``libhidapi-hidraw.so``, the first name
the ``hid`` package asks ``dlopen`` for, and glibc answers a ``dlopen`` by name with an already loaded
library of that soname before looking at the file system, so the stand-in wins even where the real
libhidapi-hidraw0 is installed. A ``hid`` module imported earlier (bound to the real library) is reloaded.
:class:`StandinDevices` writes the device file the library reads (see the header of ``hidapi_standin.c``).
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

SOURCE = Path(__file__).resolve().parent / "hidapi_standin.c"
ENV = "AIOCTAP_HIDAPI_STANDIN"
SONAME = "libhidapi-hidraw.so"


def build_standin(out_dir: Path) -> Path:
    """Compile ``hidapi_standin.c`` into ``out_dir`` (once per source version); the library's path."""
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    lib_dir = out_dir / f"hidapi-standin-{digest}"
    lib = lib_dir / SONAME
    if not lib.exists():
        lib_dir.mkdir(parents=True, exist_ok=True)
        tmp = lib_dir / f"{SONAME}.{os.getpid()}.tmp"
        subprocess.run(
            ["gcc", "-shared", "-fPIC", "-O2", "-Wall", f"-Wl,-soname,{SONAME}", "-o", str(tmp), str(SOURCE)],
            check=True,
        )
        tmp.replace(lib)  # atomic: parallel builds never load a half-written file
    return lib


def load_standin(out_dir: Path) -> ModuleType:
    """Build, preload and bind the stand-in beneath the real ``hid`` package; the ``hid`` module."""
    lib = build_standin(out_dir)
    ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
    hid = sys.modules.get("hid")
    hid = importlib.reload(hid) if hid is not None else importlib.import_module("hid")
    if not hasattr(hid.hidapi, "aioctap_hidapi_standin"):
        raise RuntimeError(f"the hid package loaded another hidapi library than {lib}")
    return hid


@dataclass(frozen=True)
class StandinDevice:
    """One line of the device file: a HID device forwarding its reports to a UDP authenticator."""

    path: str
    address: tuple[str, int]
    vid: int = 0x1050
    pid: int = 0x0407
    usage_page: int = 0xF1D0
    usage: int = 0x01
    pace_us: int = 0
    plug_file: Path | None = None
    product: str = ""
    serial: str = ""

    def line(self) -> str:
        fields = [
            self.path,
            f"{self.vid:04x}",
            f"{self.pid:04x}",
            f"{self.usage_page:04x}",
            f"{self.usage:02x}",
            f"{self.address[0]}:{self.address[1]}",
            str(self.pace_us),
            str(self.plug_file) if self.plug_file else "-",
            self.product or "-",
            self.serial or "-",
        ]
        return "\t".join(fields)


class StandinDevices:
    """The device file of the stand-in library (``AIOCTAP_HIDAPI_STANDIN``), and plugging devices in and out."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.file = directory / "devices.tsv"
        self.devices: list[StandinDevice] = []
        self.file.write_text("")

    def add(self, path: str, address: tuple[str, int], **fields: int | str) -> StandinDevice:
        """Plug in a device (a plug file is made for it) and write the device file."""
        plug = self.directory / f"plug-{len(self.devices)}"
        plug.touch()
        device = StandinDevice(path, address, plug_file=plug, **fields)  # type: ignore[arg-type]
        self.devices.append(device)
        self.write()
        return device

    def unplug(self, device: StandinDevice) -> None:
        """Remove the device's plug file: it leaves the enumeration and open handles fail."""
        assert device.plug_file is not None
        device.plug_file.unlink()

    def plug(self, device: StandinDevice) -> None:
        """Plug the device in again."""
        assert device.plug_file is not None
        device.plug_file.touch()

    def write(self) -> None:
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text("".join(d.line() + "\n" for d in self.devices))
        tmp.replace(self.file)
