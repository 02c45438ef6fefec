#!/usr/bin/env bash
# Screenshots of the app for the README, light and dark, under a virtual X display.
#
# Installs nothing itself. Needs Xvfb and Qt's X11 libraries (Debian/Ubuntu):
#   apt-get install xvfb libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 \
#       libxcb-image0 libxcb-render-util0 libegl1
# and the project with its test extras (scikit-image for the sample photos):
#   pip install ".[test]"
#
# Usage: bash scripts/screenshot.sh            -> docs/screenshot.png, docs/screenshot-dark.png
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
command -v xvfb-run >/dev/null || { echo "xvfb-run not found: apt-get install xvfb (see the top of this script)" >&2; exit 1; }
export QT_QPA_PLATFORM=xcb
for theme in light dark; do
    out="docs/screenshot.png"
    [ "$theme" = dark ] && out="docs/screenshot-dark.png"
    xvfb-run -a -s "-screen 0 1600x1000x24 -dpi 96" "$PYTHON" scripts/screenshot_app.py --theme "$theme" --out "$out"
done
