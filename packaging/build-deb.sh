#!/usr/bin/env bash
# Builds the Debian package of siaga with dpkg-deb (no cargo-deb to install first):
#   bash packaging/build-deb.sh [OUT_DIR]      -> OUT_DIR/siaga_<version>_<arch>.deb
# Layout (Debian policy, FHS):
#   /usr/bin/siaga                      the gateway (release build)
#   /etc/siaga/siaga.toml               the config (a conffile: upgrades keep local edits);
#                                       config/siaga.toml with its paths made absolute
#   /usr/share/siaga/prompts/*.ul       G.711 prompts; /usr/share/siaga/geo/*.geojson boundaries
#   /var/lib/siaga                      state (store, screening audio), owned by user siaga
#   /lib/systemd/system/siaga.service   the unit (LimitNOFILE, Restart=on-failure, hardening)
# The build goes to a temporary directory; only the .deb is written to OUT_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/target/debian}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
arch="$(dpkg --print-architecture)"
cargo build --release --locked --bin siaga

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/siaga_${version}_${arch}"
install -D -m 0755 target/release/siaga "$pkg/usr/bin/siaga"
strip --strip-debug "$pkg/usr/bin/siaga"
install -d "$pkg/usr/share/siaga/prompts" "$pkg/usr/share/siaga/geo" "$pkg/usr/share/doc/siaga"
install -m 0644 config/prompts/*.ul "$pkg/usr/share/siaga/prompts/"
install -m 0644 fixtures/geo/*.geojson fixtures/geo/SOURCE.md "$pkg/usr/share/siaga/geo/"
install -m 0644 README.md "$pkg/usr/share/doc/siaga/"
[ -d docs ] && install -m 0644 docs/*.md "$pkg/usr/share/doc/siaga/"
install -D -m 0644 packaging/siaga.service "$pkg/lib/systemd/system/siaga.service"
# The shipped config with absolute paths: "config/..." files live in /usr/share/siaga,
# "data/..." state in /var/lib/siaga.
install -d "$pkg/etc/siaga"
sed -e 's#"config/#"/usr/share/siaga/#g' -e 's#"data/#"/var/lib/siaga/#g' \
	config/siaga.toml >"$pkg/etc/siaga/siaga.toml"
chmod 0640 "$pkg/etc/siaga/siaga.toml"

install -d "$pkg/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$pkg/DEBIAN/"
echo /etc/siaga/siaga.toml >"$pkg/DEBIAN/conffiles"
# the newest glibc symbol the binary needs
glibc="$(objdump -T "$pkg/usr/bin/siaga" | sed -n 's/.*GLIBC_\([0-9.]*\).*/\1/p' | sort -V | tail -1)"
size="$(du -sk "$pkg" | cut -f1)"
cat >"$pkg/DEBIAN/control" <<CONTROL
Package: siaga
Version: $version
Architecture: $arch
Maintainer: siaga developers <siaga@localhost>
Installed-Size: $size
Depends: libc6 (>= $glibc), adduser
Section: net
Priority: optional
Homepage: https://siaga.invalid/
Description: SIP gateway for the emergency number 112
 siaga answers 112 calls from a telephone trunk as a back-to-back user agent,
 screens them for ghost (silent) and prank calls, queues genuine callers by
 risk class and rings a free call-taker seat. Every call is recorded; call
 takers' dispositions are summed per kecamatan for the city's agencies.
CONTROL
dpkg-deb --root-owner-group --build "$pkg" "$out/" >/dev/null
echo "$out/siaga_${version}_${arch}.deb"
