# shellcheck shell=bash
# Sourced by bin/run, bin/test and .ci/run: the project's virtualenv, made and kept in step
# with the requirements files. Not meant to be executed on its own.

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
