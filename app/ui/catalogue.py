"""Regenerate the English catalogue: `python -m app.ui.catalogue` (or `python dev.py translations`).

1. `lupdate` (PySide6's own, shipped in the PySide6 package folder) reads every text marked for
   translation in app/ui and app/gui.py into app/resources/i18n/tiller_en.ts, keeping the English
   already written there and dropping texts no longer in the sources;
2. the texts still without English are listed (write them in the .ts, by hand or in Qt Linguist);
3. `lrelease` compiles the .ts into tiller_en.qm, which the window loads (app/ui/i18n.py).

Exit status 1 while any text lacks its English. tests/integration/ui/test_translations.py checks the
committed .ts and .qm are up to date with the sources.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from app.resources import resource_path

APP = Path(__file__).resolve().parents[1]  # the sources, read (the catalogue is a resource)
I18N = resource_path("i18n")
TS = I18N / "tiller_en.ts"
QM = I18N / "tiller_en.qm"


def sources(app: Path = APP) -> list[Path]:
    """The files whose texts the window shows: app/ui (panels included) and app/gui.py."""
    return [*sorted((app / "ui").rglob("*.py")), app / "gui.py"]


def qt_tool(name: str) -> Path:
    """`lupdate` or `lrelease` from the PySide6 package folder (PySide6-Essentials ships both)."""
    import PySide6

    folder = Path(PySide6.__file__).resolve().parent
    for candidate in (folder / f"{name}.exe", folder / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"PySide6 {name} not found in {folder} (PySide6-Essentials ships it)")


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace")
    if done.returncode != 0:
        raise RuntimeError(
            f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr or done.stdout}"
        )


def update_ts(ts: Path = TS, files: list[Path] | None = None) -> None:
    """Bring `ts` up to date with the sources (new texts added unfinished, vanished ones dropped)."""
    ts.parent.mkdir(parents=True, exist_ok=True)
    names = [os.fspath(f) for f in (files if files is not None else sources())]
    _run([
        os.fspath(qt_tool("lupdate")), "-silent", "-no-obsolete", "-locations", "none",
        "-source-language", "zh_CN", "-target-language", "en", *names, "-ts", os.fspath(ts),
    ])  # fmt: skip


def release(ts: Path = TS, qm: Path = QM) -> None:
    _run([os.fspath(qt_tool("lrelease")), "-silent", "-nounfinished", os.fspath(ts), "-qm", os.fspath(qm)])


def messages(ts: Path = TS) -> list[tuple[str, str, str, str, str]]:
    """Every message of `ts` as (context, source, disambiguation, translation, type); type "" when
    finished."""
    out = []
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            text = "" if translation is None else (translation.text or "")
            kind = "" if translation is None else translation.get("type", "")
            out.append(
                (name, message.findtext("source") or "", message.findtext("comment") or "", text, kind)
            )
    return out


def missing(ts: Path = TS) -> list[str]:
    """The texts of `ts` without a finished, non-empty English translation, as 'context: source'."""
    return [
        f"{c or '(no context)'}: {s}" + (f" ({d})" if d else "")
        for c, s, d, t, kind in messages(ts)
        if kind or not t.strip()
    ]


def main() -> int:
    update_ts()
    lacking = missing()
    release()
    print(f"{TS}: {len(messages())} texts; compiled {QM.name}")
    if lacking:
        print(f"{len(lacking)} without English (write them in {TS.name}):")
        for line in lacking:
            print("  " + line)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
