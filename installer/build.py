#!/usr/bin/env python3
"""Build Tiller for the machine this runs on.

    python installer/build.py            # the one-folder bundle; on Windows also the installer
    python installer/build.py --no-installer   # Windows: stop after the bundle

Windows: PyInstaller's one-folder bundle in dist/Tiller, then the per-user installer
dist/Tiller-<version>-setup.exe built by Inno Setup's `iscc` when it is installed (winget install
JRSoftware.InnoSetup). Linux: the bundle and dist/tiller-<version>-linux-<arch>.tar.gz.
Run it with the Python that has Tiller installed (`python dev.py run ...` makes .venv; then
`.venv\\Scripts\\python installer\\build.py`); it installs PyInstaller into that environment when missing.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALLER = ROOT / "installer"
PYINSTALLER_SPEC = "pyinstaller>=6.10,<7"
WINDOWS = sys.platform == "win32"
ISCC_PLACES = (
    Path(os.environ.get("LOCALAPPDATA", "")) / "Programs" / "Inno Setup 6" / "ISCC.exe",
    Path(os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)")) / "Inno Setup 6" / "ISCC.exe",
    Path(os.environ.get("PROGRAMFILES", r"C:\Program Files")) / "Inno Setup 6" / "ISCC.exe",
)


def tiller_version() -> str:
    sys.path.insert(0, str(ROOT))
    from app import __version__

    return __version__


def numeric_version(version: str) -> tuple[int, int, int, int]:
    """ "0.4.0" or "0.4.0.dev1" -> (0, 4, 0, 0): Windows file versions are four small integers."""
    numbers: list[int] = []
    for part in version.split("."):
        digits = re.match(r"\d*", part)[0]  # "0rc1" -> "0": a pre-release keeps its release's numbers
        if not digits:
            break
        numbers.append(min(int(digits), 65535))
        if digits != part:
            break
    return tuple([*numbers, 0, 0, 0, 0][:4])  # type: ignore[return-value]


def write_version_resource(version: str, target: Path) -> Path:
    """The Windows version resource (the file's Properties > Details tab)."""
    nums = numeric_version(version)
    text = f"""# UTF-8
VSVersionInfo(
  ffi=FixedFileInfo(filevers={nums}, prodvers={nums}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('080404b0', [
      StringStruct('CompanyName', 'Tiller'),
      StringStruct('FileDescription', 'Tiller A股交易终端 (A-share trading terminal)'),
      StringStruct('FileVersion', '{version}'),
      StringStruct('InternalName', 'Tiller'),
      StringStruct('LegalCopyright', 'MIT License'),
      StringStruct('OriginalFilename', 'Tiller.exe'),
      StringStruct('ProductName', 'Tiller'),
      StringStruct('ProductVersion', '{version}')])]),
    VarFileInfo([VarStruct('Translation', [2052, 1200])])
  ]
)
"""
    target.write_text(text, encoding="utf-8")
    return target


def ensure_pyinstaller() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print(f"Installing {PYINSTALLER_SPEC} into {sys.prefix} …", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", PYINSTALLER_SPEC], check=True)


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def find_iscc() -> Path | None:
    found = shutil.which("iscc") or shutil.which("ISCC")
    if found:
        return Path(found)
    return next((p for p in ISCC_PLACES if p.is_file()), None)


def build_bundle(dist: Path, work: Path, version: str) -> Path:
    ensure_pyinstaller()
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if WINDOWS:
        env["TILLER_VERSION_FILE"] = str(write_version_resource(version, work / "version_info.txt"))
    icon = INSTALLER / ("tiller.ico" if WINDOWS else "tiller.png")
    if icon.is_file():
        env["TILLER_ICON"] = str(icon)
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
               "--distpath", str(dist), "--workpath", str(work), str(INSTALLER / "tiller.spec")]  # fmt: skip
    print("Building the one-folder bundle with PyInstaller (a few minutes) …", flush=True)
    subprocess.run(command, check=True, env=env, cwd=ROOT)
    return dist / "Tiller"


def build_tarball(bundle: Path, dist: Path, version: str) -> Path:
    arch = platform.machine().lower() or "unknown"
    target = dist / f"tiller-{version}-linux-{arch}.tar.gz"
    print(f"Packing {target.name} …", flush=True)
    with tarfile.open(target, "w:gz") as tar:
        tar.add(bundle, arcname=f"tiller-{version}")
    return target


def build_installer(bundle: Path, dist: Path, version: str) -> Path | None:
    iscc = find_iscc()
    if iscc is None:
        print("Inno Setup (iscc) was not found: the bundle is built, the installer is not. "
              "Install Inno Setup 6 (winget install JRSoftware.InnoSetup) and run this again.")  # fmt: skip
        return None
    command = [str(iscc), f"/DAppVersion={version}", f"/DFileVersion={'.'.join(map(str, numeric_version(version)))}",
               f"/DBundleDir={bundle}", f"/O{dist}", str(INSTALLER / "tiller.iss")]  # fmt: skip
    print(f"Building the installer with {iscc} …", flush=True)
    subprocess.run(command, check=True, cwd=INSTALLER)
    return dist / f"Tiller-{version}-setup.exe"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dist", type=Path, default=ROOT / "dist", help="where the results go (default: dist/)"
    )
    parser.add_argument(
        "--work", type=Path, default=ROOT / "build" / "pyinstaller", help="PyInstaller's work folder"
    )
    parser.add_argument("--no-installer", action="store_true", help="Windows: build the bundle only")
    parser.add_argument("--no-tarball", action="store_true", help="Linux: build the bundle only")
    args = parser.parse_args(argv)
    version = tiller_version()
    try:
        bundle = build_bundle(args.dist.resolve(), args.work.resolve(), version)
    except subprocess.CalledProcessError as exc:
        print(f"PyInstaller failed (exit code {exc.returncode}); its messages are above.", file=sys.stderr)
        return 1
    print(f"Bundle: {bundle} ({mib(folder_size(bundle))})")
    if WINDOWS and not args.no_installer:
        setup = build_installer(bundle, args.dist.resolve(), version)
        if setup is not None:
            print(f"Installer: {setup} ({mib(setup.stat().st_size)})")
    elif not WINDOWS and not args.no_tarball:
        tarball = build_tarball(bundle, args.dist.resolve(), version)
        print(f"Tarball: {tarball} ({mib(tarball.stat().st_size)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
