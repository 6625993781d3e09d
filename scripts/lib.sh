# shellcheck shell=bash
# Shared settings for the project scripts: where the kernel pieces live.

DDI_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DDI_CACHE=${DDI_CACHE:-/var/cache/dm-dedup-index}
# Debian ships 6.12 for bookworm with package names like 6.12.117+deb12-amd64.
DDI_PINNED=$(grep -v '^#' "$DDI_TOP/scripts/kernel-version" | head -n 1)

ddi_log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
ddi_die() { ddi_log "error: $*"; exit 1; }

# Print the seed of the tests' random data, from DDI_SEED: a number
# (default 1), or "random" for a new one.
ddi_seed() {
	local seed=${DDI_SEED:-1}

	if [ "$seed" = random ]; then
		seed=$(od -An -tu4 -N4 /dev/urandom | tr -d ' ')
	fi
	[[ $seed =~ ^[0-9]+$ ]] || ddi_die "DDI_SEED must be a number or 'random', not '$seed'"
	echo "$seed"
}

# Print the kernel version to use: the pinned one if the cache or the archive has
# it, else the newest 6.12 deb12 build the archive serves.
ddi_kernel_version() {
	if [ -f "$DDI_CACHE/kernel-version" ]; then
		cat "$DDI_CACHE/kernel-version"
		return
	fi
	if apt-cache show "linux-image-$DDI_PINNED+deb12-amd64-unsigned" >/dev/null 2>&1; then
		echo "$DDI_PINNED"
		return
	fi
	local newest
	newest=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
		sed -n 's/^linux-image-\(6\.12\.[0-9]*\)+deb12-amd64-unsigned .*/\1/p' |
		sort -V | tail -n 1)
	[ -n "$newest" ] || ddi_die "no linux-image-6.12.*+deb12-amd64-unsigned in the archive"
	ddi_log "pinned kernel $DDI_PINNED is not served; using newest: $newest"
	echo "$newest"
}

# Locations derived from the version (call after ddi_kernel_version).
ddi_paths() {
	DDI_KVER=$(ddi_kernel_version)
	DDI_KREL="$DDI_KVER+deb12-amd64"
	DDI_IMAGE_DIR="$DDI_CACHE/image-$DDI_KREL"
	DDI_VMLINUZ="$DDI_IMAGE_DIR/boot/vmlinuz-$DDI_KREL"
	DDI_MODDIR="$DDI_IMAGE_DIR/lib/modules/$DDI_KREL"
	DDI_SRC_PRISTINE="$DDI_CACHE/linux-source-$DDI_KVER"
	DDI_HEADERS_ROOT="$DDI_CACHE/headers-$DDI_KREL"
	DDI_HEADERS="$DDI_HEADERS_ROOT/usr/src/linux-headers-$DDI_KREL"
	# One kernel tree and build directory per checkout, so that two clones
	# (a helper's worktree and CI's fresh clone) never build each other's files.
	DDI_CHECKOUT_ID=$(printf '%s' "$DDI_TOP" | md5sum | cut -c1-10)
	DDI_KTREE="$DDI_CACHE/ktree-$DDI_CHECKOUT_ID"
	DDI_BUILD="$DDI_CACHE/build-$DDI_CHECKOUT_ID"
}
