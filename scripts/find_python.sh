#!/usr/bin/env bash
# Print the path of a working Python 3.12 interpreter, or explain how to get one.
# Order: $PYTHON if set, python3.12 on PATH, pyenv's 3.12.x, then common install folders.
set -u
works() { [ -n "$1" ] && "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 12) else 1)' >/dev/null 2>&1; }
if [ -n "${PYTHON:-}" ]; then
  if works "$PYTHON"; then echo "$PYTHON"; exit 0; fi
  echo "PYTHON=$PYTHON is not a working Python 3.12 (sinergym 3.12 needs 3.12)." >&2; exit 1
fi
for c in python3.12 "$(command -v python3 2>/dev/null)"; do
  p=$(command -v "$c" 2>/dev/null) || continue
  if works "$p"; then echo "$p"; exit 0; fi
done
roots=()
command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root)/versions")
roots+=("$HOME/.pyenv/versions" /root/.pyenv/versions /usr/local/bin /opt/python)
for r in "${roots[@]}"; do
  for p in "$r"/3.12*/bin/python3.12 "$r"/python3.12; do
    if works "$p"; then echo "$p"; exit 0; fi
  done
done
echo "No Python 3.12 found. Install one (e.g. 'pyenv install 3.12' or your OS package python3.12), or run 'make PYTHON=/path/to/python3.12 ...'." >&2
exit 1
