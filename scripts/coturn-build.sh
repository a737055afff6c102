#!/usr/bin/env bash
# Builds the coturn the fleet image pins (infrastructure/coturn/Dockerfile) from its source tarball, for the tests
# and for `npm start`, and caches the install per tarball checksum and -dev package versions, as .ci/run caches Node.
#
#   bash scripts/coturn-build.sh            build if needed; print the install's bin directory on stdout
#   COTURN_TARBALL=/path/coturn-X.tar.xz    use another copy of the tarball (default: ../shared/coturn/ beside the repo)
#
# The tarball's SHA-256 must match the SHA256SUMS file beside it. Needs Debian's build-essential, pkg-config,
# libevent-dev, libssl-dev, libsqlite3-dev and libmicrohttpd-dev (.ci/run installs them).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

version="$(sed -n 's/^ARG COTURN_VERSION=\([0-9.]*\)$/\1/p' "$repo/infrastructure/coturn/Dockerfile")"
[ -n "$version" ] || { echo "coturn-build: no ARG COTURN_VERSION in infrastructure/coturn/Dockerfile" >&2; exit 1; }

tarball="${COTURN_TARBALL:-$repo/../shared/coturn/coturn-$version.tar.xz}"
sums="$(dirname "$tarball")/SHA256SUMS"
[ -f "$tarball" ] || { echo "coturn-build: $tarball not found (set COTURN_TARBALL)" >&2; exit 1; }
[ -f "$sums" ] || { echo "coturn-build: $sums not found: refusing to build an unchecked tarball" >&2; exit 1; }

expected="$(awk -v name="$(basename "$tarball")" '$2 == name || $2 == "*" name { print $1 }' "$sums")"
actual="$(sha256sum "$tarball" | cut -d' ' -f1)"
if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
  echo "coturn-build: checksum mismatch for $tarball (expected ${expected:-none}, got $actual)" >&2
  exit 1
fi

# The cache key: the tarball's checksum and the versions of the -dev packages it links against.
deps="$(dpkg-query -W -f='${Package}=${Version} ' libevent-dev libssl-dev libsqlite3-dev libmicrohttpd-dev 2>/dev/null || true)"
key="$(printf '%s %s' "$actual" "$deps" | sha256sum | cut -c1-16)"
prefix="${XDG_CACHE_HOME:-$HOME/.cache}/icegate/coturn-$version-$key"

# `.complete` is written last, so an interrupted build is never taken for a finished one.
if [ ! -f "$prefix/.complete" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  echo "coturn-build: building coturn $version into $prefix" >&2
  tar -xJf "$tarball" -C "$work"
  (
    cd "$work/coturn-$version"
    TURN_NO_PQ=1 TURN_NO_MYSQL=1 TURN_NO_MONGO=1 TURN_NO_HIREDIS=1 ./configure --prefix="$prefix" >"$work/configure.log" 2>&1 ||
      { cat "$work/configure.log" >&2; exit 1; }
    make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -50 "$work/make.log" >&2; exit 1; }
    rm -rf "$prefix"
    make install >"$work/install.log" 2>&1 || { tail -50 "$work/install.log" >&2; exit 1; }
  )
  touch "$prefix/.complete"
fi

echo "$prefix/bin"
