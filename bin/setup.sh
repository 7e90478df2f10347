# shellcheck shell=bash
# Set-up steps shared by bin/run, bin/test and .ci/run: the project's virtualenv, kept in step
# with the requirements files, and the compiled translations. Sourced, not executed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

# Python 3.11 is what the pins are vetted on; a newer python3 is accepted if 3.11 is absent.
find_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "Jihui needs Python 3.11 or newer: install python3.11 or set PYTHON=/path/to/python3.11" >&2
  return 1
}

ensure_venv() {
  # A venv whose interpreter was removed (e.g. a pyenv upgrade) is rebuilt, not patched.
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "" 2>/dev/null; then
    return 0
  fi
  local python
  python=$(find_python)
  echo "==> Creating .venv with $python ($("$python" --version 2>&1))"
  rm -rf "$VENV"
  "$python" -m venv "$VENV"
}

# install_requirements FILE: pip-installs FILE unless this exact set of requirements files was
# installed already. The stamp hashes every requirements*.txt, because one may include another.
install_requirements() {
  local file=$1 stamp hash
  stamp="$VENV/.installed-$(basename "$file" .txt)"
  hash=$(cd "$ROOT" && cat requirements*.txt | sha256sum | cut -d" " -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    return 0
  fi
  echo "==> Installing $file into .venv"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/$file"
  echo "$hash" >"$stamp"
}

# The compiled .mo files are committed; this recompiles any whose .po a developer edited without
# running bin/translations (Django skips the rest), so pages and tests see the same catalogue.
compile_translations() {
  if [ -z "$(find "$ROOT" -path "$ROOT/.venv" -prune -o -path "$ROOT/var" -prune -o -name '*.po' -print -quit)" ]; then
    return 0
  fi
  if ! command -v msgfmt >/dev/null 2>&1; then
    echo "==> msgfmt not found (apt-get install gettext): translations are not compiled" >&2
    return 0
  fi
  (cd "$ROOT" && "$VENV/bin/python" manage.py compilemessages --ignore=.venv --ignore=var --ignore=node_modules -v 0)
}

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work on our
# machines). Installed when missing and this user may (root with apt-get); otherwise those
# tests skip with the reason. In CI (CI=true) a failed install fails the run instead.
ensure_chromium() {
  local chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
  [ ! -x "$chromium" ] || return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "==> No Chromium at $chromium: browser tests will be skipped (sudo apt-get install chromium)" >&2
    return 0
  fi
  echo "==> Installing Chromium for the browser tests (apt-get install chromium)"
  local log
  log=$(mktemp)
  if DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >>"$log" 2>&1; then
    rm -f "$log"
    return 0
  fi
  tail -n 20 "$log" >&2
  rm -f "$log"
  echo "==> Chromium could not be installed: browser tests will be skipped" >&2
  [ "${CI:-}" != true ]
}
