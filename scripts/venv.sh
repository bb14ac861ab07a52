# Sourced by scripts/serve and scripts/test: make .venv with Python 3.11+ and install $1 into it.
# POSIX sh; run from the repository root.

pufa_find_python() {
  for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "Pufa needs Python 3.11 or newer: none found (set PYTHON=/path/to/python3.11)." >&2
  return 1
}

pufa_make_venv() {
  python=$(pufa_find_python) || return 1
  if .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    return 0
  fi
  echo "Creating .venv with $python ..."
  rm -rf .venv
  if "$python" -m venv .venv; then
    return 0
  fi
  rm -rf .venv
  # Debian and Ubuntu ship venv separately.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing python3-venv with apt-get ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv &&
      "$python" -m venv .venv && return 0
  fi
  echo "Could not create .venv. On Debian/Ubuntu: sudo apt-get install python3-venv" >&2
  return 1
}

# pufa_install REQUIREMENTS_FILE: a virtualenv in .venv with those requirements installed.
pufa_install() {
  pufa_make_venv || return 1
  echo "Installing $1 into .venv ..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$1"
}
