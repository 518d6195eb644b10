# SPDX-License-Identifier: Apache-2.0
# Shared helpers for deploy/ scripts: JDK selection, idempotent apt installs, one-line errors.

DOMUS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOMUS_ROOT

die() {
  echo "domus: $*" >&2
  exit 1
}

say() {
  echo "==> $*" >&2
}

# Uses JDK 25 (Temurin) unless JAVA_HOME already points at a JDK >= 25.
use_jdk25() {
  local want=/usr/lib/jvm/temurin-25-jdk-amd64
  if [ -n "${JAVA_HOME:-}" ] && "$JAVA_HOME/bin/java" -version 2>&1 | grep -Eq 'version "(2[5-9]|[3-9][0-9])'; then
    :
  elif [ -x "$want/bin/java" ]; then
    export JAVA_HOME="$want"
  else
    die "JDK 25 not found at $want; install Temurin 25 or set JAVA_HOME to a JDK >= 25"
  fi
  export PATH="$JAVA_HOME/bin:$PATH"
}

# ensure_packages pkg... : installs missing Debian packages (apt-get update only when something is missing).
ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]} (run as root or: sudo apt-get install ${missing[*]})"
  fi
  command -v apt-get >/dev/null || die "apt-get not found; install: ${missing[*]}"
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
}

# The guest image is built from Debian *source* packages (busybox, dropbear): make sure apt has a deb-src entry
# for the suites the machine already uses (deb822 format, idempotent), then refresh the source index if needed.
ensure_deb_src() {
  if [ -n "$(apt-cache showsrc --only-source busybox 2>/dev/null)" ]; then
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "no deb-src entry for Debian sources; as root add one (Types: deb-src) and run apt-get update"
  local f=/etc/apt/sources.list.d/domus-deb-src.sources
  if [ ! -f "$f" ]; then
    say "adding a deb-src entry for bookworm ($f)"
    cat > "$f" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || die "apt-get update failed"
  [ -n "$(apt-cache showsrc --only-source busybox 2>/dev/null)" ] || die "still no Debian source records after adding $f"
}
