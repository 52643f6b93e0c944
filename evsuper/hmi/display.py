"""Can Qt open a window here? Answered before Qt is loaded, in one line for the operator."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc")
# What Qt 6's X11 plugin needs beyond libX11 (Debian / Ubuntu package names).
XCB_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 "
    "libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0"
)


def display_problem(project_dir: Path) -> str | None:
    """Why ``evsuper run`` cannot show a window on this machine, or None if it can."""
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if platform in HEADLESS_PLATFORMS or sys.platform != "linux":
        return None
    wayland = bool(os.environ.get("WAYLAND_DISPLAY"))
    x11 = bool(os.environ.get("DISPLAY"))
    if not (wayland or x11):
        return (
            "evsuper run: no display (DISPLAY/WAYLAND_DISPLAY unset); "
            f"use 'evsuper serve {project_dir}' for the headless engine."
        )
    if platform == "xcb" or (x11 and not wayland and not platform):
        missing = _missing_libraries("libqxcb.so")
        if missing:
            return (
                f"evsuper run: Qt cannot open an X11 window, missing {', '.join(missing)} "
                f"(Debian/Ubuntu: apt-get install {XCB_PACKAGES}); "
                f"or use 'evsuper serve {project_dir}' headless."
            )
    return None


def _missing_libraries(plugin: str) -> list[str]:
    """Shared libraries the Qt platform plugin needs and the system lacks (from ldd)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    path = Path(next(iter(spec.submodule_search_locations))) / "Qt/plugins/platforms" / plugin
    if not path.exists():
        return []
    try:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.split()[0] for line in out.splitlines() if "not found" in line]
