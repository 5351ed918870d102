"""The Debian package (tools/make-deb) as a user gets it: installed with apt
in a Debian chroot (build/chroot-DIST, as tools/distro-test makes it), loaded
by root's tshark from the global plugin folder, decoding a real migration,
and removed cleanly. DIST is this machine's release, or SPICEMIG_DEB_DIST
(then the package is built in that chroot, against its Wireshark). Needs
root and debootstrap; skipped inside the chroots themselves."""

import os
import shutil
import subprocess
import unittest

from spicemig_tshark import HERE, capture, fields_args, fields_rows, psml_rows

TOP = os.path.abspath(os.path.join(HERE, ".."))


def host_release():
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    return None


DIST = os.environ.get("SPICEMIG_DEB_DIST") or host_release()
PROFILE = "SPICE migration"
ROOT = os.path.join(TOP, "build", "chroot-%s" % DIST)


def cannot_run():
    if os.environ.get("SPICEMIG_IN_CHROOT"):
        return "runs on the host only (it makes its own chroot)"
    if os.geteuid() != 0:
        return "chroot and apt need root"
    if not shutil.which("debootstrap") or not DIST:
        return "needs debootstrap on a Debian host"
    return None


def lib(*commands):
    """Runs tools/chroot-lib.sh functions, from the top of the tree."""
    subprocess.run(["sh", "-c", ". tools/chroot-lib.sh && " + " && ".join(commands)], cwd=TOP, check=True,
                   stdout=subprocess.DEVNULL)


def in_chroot(*args, check=True):
    """stdout of a command run as root in the chroot."""
    proc = subprocess.run(["chroot", ROOT, "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                           "DEBIAN_FRONTEND=noninteractive", *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(args), proc.returncode, proc.stderr))
    return proc.stdout


# Wireshark's warning for root's tshark, on stderr: the only thing it may say.
ROOT_WARNING = 'Running as user "root" and group "root". This could be dangerous.'


def root_tshark(*args):
    proc = subprocess.run(["chroot", ROOT, "env", "-i", "PATH=/usr/bin:/bin", "HOME=/root", "tshark", *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if proc.returncode != 0 or proc.stderr.replace(ROOT_WARNING, "").strip():
        raise AssertionError("tshark %s failed (%d): %s" % (" ".join(args), proc.returncode, proc.stderr))
    return proc.stdout


def listed_plugins():
    return {cells[0].strip(): (cells[2], cells[3]) for cells in
            (line.split("\t") for line in root_tshark("-G", "plugins").splitlines())}


@unittest.skipIf(cannot_run(), cannot_run())
class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        make_deb = [os.path.join(TOP, "tools", "make-deb")]
        if DIST != host_release():
            make_deb.append(DIST)
        else:
            lib("chroot_prepare %s" % DIST)
        out = subprocess.run(make_deb, cwd=TOP, check=True, stdout=subprocess.PIPE, text=True,
                             timeout=1200).stdout
        cls.deb = out.splitlines()[-1]
        lib("chroot_mount %s" % DIST)
        cls.addClassCleanup(lib, "chroot_umount %s" % DIST)
        # The libwireshark this Wireshark runs on, found from its tshark.
        ldd = in_chroot("ldd", "/usr/bin/tshark")
        library = next(line.split()[2] for line in ldd.splitlines() if "libwireshark.so" in line)
        library = in_chroot("readlink", "-f", library).strip()   # dpkg knows /usr/lib, not /lib
        cls.libwireshark = in_chroot("dpkg", "-S", library).split(":")[0]
        version = in_chroot("dpkg-query", "-W", "-f", "${Version}", cls.libwireshark)
        major, minor = version.split(".")[:2]
        cls.abi = "%s.%s" % (major, minor)
        cls.next_abi = "%s.%d" % (major, int(minor) + 1)
        multiarch = os.path.basename(os.path.dirname(library))   # e.g. x86_64-linux-gnu
        cls.plugin = "/usr/lib/%s/wireshark/plugins/%s/epan/spicemig.so" % (multiarch, cls.abi)
        # The configuration profile, in Wireshark's global profiles folder.
        cls.profile = "/usr/share/wireshark/profiles/" + PROFILE
        cls.profile_files = [cls.profile + "/" + name for name in ("colorfilters", "preferences", "recent")]
        # tools/distro-test installs a plugin there that no package owns: keep it out of the way.
        cls.unowned = os.path.join(ROOT, cls.plugin.lstrip("/"))
        if os.path.exists(cls.unowned):
            os.rename(cls.unowned, cls.unowned + ".distro-test")
            cls.addClassCleanup(os.rename, cls.unowned + ".distro-test", cls.unowned)
        shutil.copy(cls.deb, os.path.join(ROOT, "tmp"))
        shutil.copy(capture("seamless-default.pcapng"), os.path.join(ROOT, "tmp"))
        cls.addClassCleanup(in_chroot, "apt-get", "purge", "-y", "-q", "spicemig", check=False)
        cls.install_log = in_chroot("apt-get", "install", "-y", "-q", "--no-install-recommends",
                                    "/tmp/" + os.path.basename(cls.deb))

    def test_name_and_fields(self):
        self.assertRegex(os.path.basename(self.deb), r"^spicemig_[0-9.]+_[a-z0-9]+\.deb$")
        info = subprocess.run(["dpkg", "-I", self.deb], check=True, stdout=subprocess.PIPE, text=True).stdout
        fields = dict(line.strip().split(": ", 1) for line in info.splitlines()
                      if line.startswith(" ") and ": " in line and not line.startswith("  "))
        self.assertEqual(fields["Depends"], "%s (>= %s.0), %s (<< %s)" % (
            self.libwireshark, self.abi, self.libwireshark, self.next_abi))
        self.assertEqual(fields["Package"], "spicemig")
        self.assertTrue(fields["Homepage"].startswith("https://"))
        self.assertIn("SPICE", fields["Description"])
        # dpkg-deb -c: mode, owner, size, date, time, then the path (which may hold spaces).
        contents = [line.split(None, 5)[5] for line in
                    subprocess.run(["dpkg-deb", "-c", self.deb], check=True, stdout=subprocess.PIPE,
                                   text=True).stdout.splitlines()]
        self.assertIn("." + self.plugin, contents)
        self.assertIn("./usr/share/doc/spicemig/copyright", contents)
        for path in self.profile_files:
            self.assertIn("." + path, contents)
        self.assertEqual(sorted(path for path in contents if path.startswith("./usr/share/wireshark/")),
                         ["./usr/share/wireshark/", "./usr/share/wireshark/profiles/", "." + self.profile + "/"]
                         + ["." + path for path in self.profile_files])

    def test_installed_with_its_license(self):
        self.assertIn("Setting up spicemig", self.install_log)
        copyright = in_chroot("cat", "/usr/share/doc/spicemig/copyright")
        self.assertIn("License: GPL-2.0-or-later", copyright)
        listed = in_chroot("dpkg", "-L", "spicemig").splitlines()
        self.assertIn(self.plugin, listed)
        for path in self.profile_files:
            self.assertIn(path, listed)
        with open(os.path.join(TOP, "profiles", PROFILE, "colorfilters")) as source:
            self.assertEqual(in_chroot("cat", self.profile + "/colorfilters"), source.read())

    def test_root_tshark_uses_the_global_profile(self):
        # tshark -C copies a global profile into the personal profiles folder first.
        copy = "/root/.config/wireshark/profiles/" + PROFILE
        self.addCleanup(in_chroot, "rm", "-rf", copy)
        rows = psml_rows(root_tshark("-C", PROFILE, "-r", "/tmp/seamless-default.pcapng", "-2",
                                     "-Y", 'spicemig.magic == "DCMD"', "-T", "psml"))
        self.assertEqual([(row["No."], row["Role"], row["Hop"], row["Migration"], row["Outcome"]) for row in rows],
                         [("280", "source", "source\u2192client", "1", "completed"),
                          ("281", "destination", "client\u2192destination", "1", "completed")])

    def test_root_tshark_loads_it_from_the_global_folder(self):
        self.assertEqual(listed_plugins()["spicemig.so"], ("dissector", self.plugin))

    def test_real_capture_decoded(self):
        names = ("spicemig.msg.type", "spicemig.display.message_serial", "spicemig.display.pixmap_cache.size",
                 "spicemig.display.glz_dict.size", "spicemig.display.glz_dict.max_encoders",
                 "spicemig.display.glz_dict.last_image_id", "spicemig.display.surfaces_ptr",
                 "spicemig.display.surfaces.lossy", "spicemig.display.surface.id")
        text = root_tshark(*fields_args("/tmp/seamless-default.pcapng", 'spicemig.magic == "DCMD"', names))
        self.assertEqual(fields_rows(text, names), [
            [[msg_type], ["36"], ["20971520"], ["6290432"], ["4"], ["26"], ["80"], ["0"], ["0"]]
            for msg_type in ("2", "5")])
        undissected = root_tshark("-r", "/tmp/seamless-default.pcapng", "-2", "-Y",
                                  "tcp.len>0 && !spice && !spicemig && !tcp.reassembled_in"
                                  " && !tcp.analysis.retransmission", "-T", "fields", "-e", "frame.number")
        self.assertEqual(undissected.split(), [])

    def test_zz_removed_cleanly(self):
        # Runs last (unittest sorts by name): the package goes away and takes the plugin with it.
        in_chroot("apt-get", "purge", "-y", "-q", "spicemig")
        self.assertFalse(os.path.exists(os.path.join(ROOT, self.plugin.lstrip("/"))))
        self.assertFalse(os.path.exists(os.path.join(ROOT, "usr/share/doc/spicemig")))
        self.assertFalse(os.path.exists(os.path.join(ROOT, self.profile.lstrip("/"))))
        # Wireshark's own global profiles stay.
        self.assertTrue(os.path.isdir(os.path.join(ROOT, "usr/share/wireshark/profiles/Classic")))
        self.assertEqual(in_chroot("dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "spicemig", check=False)
                         .strip(), "")
        self.assertNotIn("spicemig.so", listed_plugins())


if __name__ == "__main__":
    unittest.main()
