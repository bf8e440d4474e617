#!/usr/bin/env bash
# Render a curate report in headless Chromium and check the screenshot is not blank.
#
#   scripts/check_report_render.sh out/                 # runs `curate report out/` first, then renders out/report.html
#   scripts/check_report_render.sh out/report.html shot.png
#
# Needs Debian's `chromium` (apt-get install -y chromium). Exit 0: rendered and non-blank.
set -euo pipefail

target=${1:?usage: $0 RUN_DIR|REPORT.html [SCREENSHOT.png]}
shot=${2:-}
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && PY=${PYTHON:-.venv/bin/python}

if [ -d "$target" ]; then
    "$PY" -m curate report "$target"
    html="$target/report.html"
else
    html="$target"
fi
[ -f "$html" ] || { echo "no such page: $html" >&2; exit 3; }

exe=""
for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then exe=$(command -v "$name"); break; fi
done
[ -n "$exe" ] || { echo "chromium is not installed: apt-get update && apt-get install -y chromium" >&2; exit 2; }

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
shot=${shot:-$profile/report.png}
url="file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"

"$exe" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$profile/chrome" --screenshot="$shot" \
    --window-size=1200,3000 "$url" >/dev/null 2>&1

"$PY" - "$shot" <<'PYCODE'
import sys

import numpy as np
from PIL import Image

img = np.asarray(Image.open(sys.argv[1]).convert("RGB")).astype(int)
ink = (np.abs(img - [246, 247, 249]).sum(axis=2) > 30) & (np.abs(img - 255).sum(axis=2) > 30)
colours = len(np.unique(img.reshape(-1, 3)[::7], axis=0))
print(f"{sys.argv[1]}: {img.shape[1]}x{img.shape[0]}, {ink.mean():.1%} drawn, {colours} colours")
if ink.mean() < 0.05 or colours < 200:
    sys.exit("the page rendered blank or nearly blank")
PYCODE
