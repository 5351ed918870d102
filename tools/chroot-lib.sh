# Shell functions for the Debian chroots of other releases (sourced by
# tools/distro-test, tools/make-deb and the .deb test), run from the top of
# the tree as root. A chroot lives in build/chroot-DIST/.

chroot_dir() {
    echo "$PWD/build/chroot-$1"
}

# The Debian mirror this machine's apt uses: the first URI of the main archive
# (not -security) in the deb822 sources or the one-line sources.list.
apt_mirror() {
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) print $i; break } }' "$f"
    done
}

# Runs a command as root in the chroot of DIST, with a clean environment.
chroot_run() {
    local dist=$1
    shift
    chroot "$(chroot_dir "$dist")" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive SPICEMIG_IN_CHROOT="$dist" "$@"
}

chroot_mount() {
    local root=$(chroot_dir "$1")
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    mountpoint -q "$root/sys" || mount -t sysfs sysfs "$root/sys"
    mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
}

# Safe to call more than once and on a half-made chroot.
chroot_umount() {
    local root=$(chroot_dir "$1")
    for m in dev sys proc; do
        if mountpoint -q "$root/$m"; then
            umount "$root/$m" || umount -l "$root/$m"
        fi
    done
}

# Makes the chroot of DIST, or reuses it, and installs (what is missing of)
# the build and test dependencies, with tools/install-deps as on the host.
chroot_prepare() {
    local dist=$1
    local root=$(chroot_dir "$dist")
    if [ ! -f "$root/.spicemig-debootstrapped" ]; then
        local mirror=$(apt_mirror | head -n 1)
        [ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt" >&2; return 1; }
        rm -rf "$root"
        mkdir -p "$root"
        echo "== debootstrap $dist from $mirror"
        debootstrap --variant=minbase "$dist" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
            { tail -n 20 "$root.debootstrap.log" >&2; return 1; }
        echo "deb $mirror $dist main" >"$root/etc/apt/sources.list"
        # A snapshot mirror serves sid's Release after its Valid-Until date.
        echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99spicemig-mirror"
        touch "$root/.spicemig-debootstrapped"
    fi
    cp tools/install-deps "$root/tmp/install-deps"
    chroot_mount "$dist"
    chroot_run "$dist" sh /tmp/install-deps >"$root.install-deps.log" 2>&1 ||
        { status=$?; tail -n 20 "$root.install-deps.log" >&2; chroot_umount "$dist"; return $status; }
    chroot_umount "$dist"
}

# The current tree (what is checked out, edits included; not build/ nor .git)
# as /spicemig in the chroot.
chroot_copy_tree() {
    local root=$(chroot_dir "$1")
    rm -rf "$root/spicemig"
    mkdir -m 755 "$root/spicemig"
    tar -c --exclude=./build --exclude=./.git -f - . | tar -x -C "$root/spicemig"
}
