#!/bin/sh
# make install-check: installs into a scratch DESTDIR and runs the installed binary with the Swift
# toolchain hidden (a mount namespace with an empty tmpfs over the toolchain's folder), so that it
# proves the standard library is linked in. Also checks the man page and the completions. Root
# (unshare --mount) is needed to hide the toolchain; without it the check says so and fails.
set -eu
cd "$(dirname "$0")/.."
dest=$(mktemp -d /tmp/portstorm-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT
make -s install DESTDIR="$dest" PREFIX=/usr/local >/dev/null
bin="$dest/usr/local/bin/portstorm"
toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")

fail() { echo "install-check: $*" >&2; exit 1; }
[ -x "$bin" ] || fail "no binary at $bin"
if ldd "$bin" | grep -E 'libswift|libFoundation|libdispatch|/opt/swift' >/dev/null; then
  ldd "$bin" >&2; fail "the installed binary still links Swift libraries dynamically"
fi
grep -q '^\.Dt PORTSTORM 1' "$dest/usr/local/share/man/man1/portstorm.1" || fail "the man page has no .Dt header"
# The page read at 80 columns: no warnings from man, no line wider, and every line the help sets in
# (lists and examples, two spaces in) comes out whole: one broken again by the formatter is not found.
page="$dest/usr/local/share/man/man1/portstorm.1"
MANWIDTH=80 LC_ALL=C man -l "$page" >"$dest/man.txt" 2>"$dest/man.err" || fail "man cannot render the page"
grep -q 'portstorm' "$dest/man.txt" || fail "man rendered an empty page"
[ ! -s "$dest/man.err" ] || { cat "$dest/man.err" >&2; fail "man warns about the page"; }
awk 'length($0) > 80 { print "  " length($0) ": " $0; wide = 1 } END { exit wide }' "$dest/man.txt" >&2 || fail "lines wider than 80 columns in the man page"
sed 's/^ *//; s/  */ /g' "$dest/man.txt" > "$dest/man.squeezed"
broken=$(grep '^  ' "$page" | sed 's/\\e/\\/g; s/^ *//; s/  */ /g' | while IFS= read -r line; do
  grep -qxF -- "$line" "$dest/man.squeezed" || echo "  $line"; done)
[ -z "$broken" ] || { echo "$broken" >&2; fail "list or example lines broken at 80 columns in the man page (above)"; }
bash -n "$dest/usr/local/share/bash-completion/completions/portstorm" || fail "the bash completion does not parse"
grep -q 'portstorm' "$dest/usr/local/share/zsh/site-functions/_portstorm" || fail "no zsh completion"
grep -q '^complete -c .portstorm.' "$dest/usr/local/share/fish/vendor_completions.d/portstorm.fish" || fail "no fish completion"

[ "$(id -u)" = 0 ] && command -v unshare >/dev/null || fail "needs root and unshare to hide the toolchain ($toolchain)"
# In a mount and network namespace of its own: the toolchain's folder is empty, loopback is up,
# a built-in server and a 200-attempt run against it.
unshare --mount --net env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TOOLCHAIN="$toolchain" BIN="$bin" sh -eu -c '
  mount -t tmpfs none "$TOOLCHAIN"
  [ -z "$(ls -A "$TOOLCHAIN")" ]
  ! command -v swift >/dev/null
  ip link set lo up
  "$BIN" -V
  "$BIN" serve --mode accept-close --listen 127.0.0.1:19090 -d 10s >/dev/null &
  sleep 0.5
  "$BIN" run 127.0.0.1:19090 -n 200 -c 10 --close server --quiet --threshold failures==0 --json > /tmp/portstorm-install-run.json
  grep -q "\"attempted\" : 200" /tmp/portstorm-install-run.json
  rm -f /tmp/portstorm-install-run.json
' || fail "the installed binary did not run with $toolchain hidden"
make -s uninstall DESTDIR="$dest" PREFIX=/usr/local
[ ! -e "$bin" ] || fail "make uninstall left $bin"
echo "install-check: the installed binary runs with $toolchain hidden; man page and completions installed; uninstall removes them"
