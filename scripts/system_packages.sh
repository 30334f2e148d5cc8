#!/usr/bin/env bash
# The system tests run real servers and a real browser from Debian's packages: PostgreSQL and Redis for the
# distributed test (tests/system/test_distributed.py: CeleryExecutor), headless Chromium and its driver for
# the UI test (tests/system/test_media_view.py). The PyPI parts come with the venv (the extras).
# `make test` runs this first: as root (CI, a fresh machine) a missing binary is installed; elsewhere it
# says what to install, and the test skips (it fails rather than skip as root without them).
set -euo pipefail
have_initdb() { command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
have() { command -v "$1" >/dev/null 2>&1; }

# install_missing "<what needs them>" <package>...: apt-get install as root, else say what to install
install_missing() {
  local needed_by="$1"
  shift
  if [ "$(id -u)" -eq 0 ] && have apt-get; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
  else
    echo "note: $* missing and cannot be installed here: $needed_by will be skipped" \
      "(apt-get install $*)" >&2
  fi
}

if ! have_initdb || ! have redis-server; then
  install_missing "the distributed system test" postgresql redis-server
fi
if ! have chromium || ! have chromedriver; then
  install_missing "the UI browser test" chromium chromium-driver
fi
