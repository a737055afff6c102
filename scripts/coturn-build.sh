#!/usr/bin/env bash
# Builds the coturn the fleet image pins (infrastructure/coturn/Dockerfile, `ARG COTURN_VERSION`) from its source, for
# the tests and for `npm start`, and caches the install per source checksum and -dev package versions, as .ci/run
# caches Node.
#
#   bash scripts/coturn-build.sh                 build if needed; print the install's bin directory on stdout
#   COTURN_TARBALL=/path/coturn-X.tar.xz         use that tarball (default: ../shared/coturn/ beside the repository)
#   COTURN_GIT_DIR=/path/to/coturn-checkout      make the tarball from a clone of github.com/coturn/coturn with
#                                                `git archive --prefix=coturn-X/ X` (tag X), as CI does
#
# Either way the source must be exactly the release: the SHA-256 of the uncompressed tar must equal the line for
# coturn-X.tar in scripts/coturn-source.sha256 (committed), so only the content and the release's commit id matter,
# never the compressor's version. A SHA256SUMS beside a given tarball is checked too. Needs Debian's build-essential,
# pkg-config, libevent-dev, libssl-dev, libsqlite3-dev and libmicrohttpd-dev (.ci/run and ci.yml install them).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
fail() {
  echo "coturn-build: $*" >&2
  exit 1
}

version="$(sed -n 's/^ARG COTURN_VERSION=\([0-9.]*\)$/\1/p' "$repo/infrastructure/coturn/Dockerfile")"
[ -n "$version" ] || fail "no ARG COTURN_VERSION in infrastructure/coturn/Dockerfile"
expected="$(awk -v name="coturn-$version.tar" '$2 == name { print $1 }' "$repo/scripts/coturn-source.sha256")"
[ -n "$expected" ] || fail "scripts/coturn-source.sha256 has no checksum for coturn-$version.tar"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ -n "${COTURN_GIT_DIR:-}" ]; then
  [ -d "$COTURN_GIT_DIR" ] || fail "COTURN_GIT_DIR=$COTURN_GIT_DIR is not a directory"
  git -C "$COTURN_GIT_DIR" archive --format=tar --prefix="coturn-$version/" "$version" >"$work/source.tar" ||
    fail "git archive of tag $version failed in $COTURN_GIT_DIR"
else
  tarball="${COTURN_TARBALL:-$repo/../shared/coturn/coturn-$version.tar.xz}"
  [ -f "$tarball" ] || fail "$tarball not found (set COTURN_TARBALL, or COTURN_GIT_DIR to a coturn clone)"
  sums="$(dirname "$tarball")/SHA256SUMS"
  if [ -f "$sums" ]; then
    listed="$(awk -v name="$(basename "$tarball")" '$2 == name || $2 == "*" name { print $1 }' "$sums")"
    actual="$(sha256sum "$tarball" | cut -d' ' -f1)"
    [ -z "$listed" ] || [ "$listed" = "$actual" ] ||
      fail "checksum mismatch for $tarball against $sums (expected $listed, got $actual)"
  fi
  xz -dc "$tarball" >"$work/source.tar" || fail "$tarball is not an xz-compressed tar"
fi

actual="$(sha256sum "$work/source.tar" | cut -d' ' -f1)"
[ "$expected" = "$actual" ] ||
  fail "the coturn $version source is not the release: tar checksum $actual, scripts/coturn-source.sha256 says $expected"

# The cache key: the source's checksum and the versions of the -dev packages it links against.
deps="$(dpkg-query -W -f='${Package}=${Version} ' libevent-dev libssl-dev libsqlite3-dev libmicrohttpd-dev 2>/dev/null || true)"
key="$(printf '%s %s' "$actual" "$deps" | sha256sum | cut -c1-16)"
prefix="${XDG_CACHE_HOME:-$HOME/.cache}/icegate/coturn-$version-$key"

# `.complete` is written last, so an interrupted build is never taken for a finished one.
if [ ! -f "$prefix/.complete" ]; then
  echo "coturn-build: building coturn $version into $prefix" >&2
  tar -xf "$work/source.tar" -C "$work"
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
