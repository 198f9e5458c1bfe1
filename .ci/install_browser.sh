#!/usr/bin/env bash
# Installs what tests/test_browser.py needs: Debian's Chromium (/usr/bin/chromium), Playwright's
# Python package (driving that Chromium through executable_path) and JupyterLab.
# `playwright install` is deliberately NOT run: it downloads Playwright's own browser build, which
# is not needed and fails without access to its CDN. Idempotent; safe to run on every CI build.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ -x /usr/bin/chromium ]; then
  echo "install_browser: $(/usr/bin/chromium --version 2>/dev/null | head -n1) already installed"
elif command -v apt-get >/dev/null 2>&1; then
  echo "install_browser: installing Debian's chromium package"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium
else
  echo "install_browser: no apt-get here; install Chromium at /usr/bin/chromium by hand" >&2
  exit 1
fi

python3 -m pip install -q playwright "jupyterlab>=4"
python3 -c "import playwright, jupyterlab; print('install_browser: playwright and jupyterlab', jupyterlab.__version__, 'ready')"
/usr/bin/chromium --version 2>/dev/null | head -n1
