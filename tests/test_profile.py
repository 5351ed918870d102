"""The configuration profile "SPICE migration" (profiles/SPICE migration/):
installed by `cmake --install` into Wireshark's global profiles folder, found
there by tshark -C, its custom columns printing the right values and its
colouring rules matching exactly the frames they should, on real captures."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from spicemig_tshark import HERE, PLUGIN, capture, fields, psml_rows, tshark

TOP = os.path.abspath(os.path.join(HERE, ".."))
PROFILE = "SPICE migration"
SOURCE = os.path.join(TOP, "profiles", PROFILE)
FILES = ["colorfilters", "preferences", "recent"]
BUILD = os.path.dirname(os.path.abspath(PLUGIN))


def build_env():
    """spicemig-build.env of the build the plugin comes from (sh syntax)."""
    with open(os.path.join(BUILD, "spicemig-build.env")) as f:
        return dict(re.match(r"(\w+)='(.*)'$", line).groups() for line in f.read().splitlines())


def global_datadir():
    """Wireshark's data directory ("Global configuration" of tshark -G folders)."""
    out = subprocess.run(["tshark", "-G", "folders"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, check=True).stdout
    return next(line.split("\t", 1)[1].strip() for line in out.splitlines()
                if line.startswith("Global configuration:"))


def colour_rules():
    """(name, filter) of the profile's spicemig colouring rules, in order."""
    with open(os.path.join(SOURCE, "colorfilters")) as f:
        return [tuple(line.split("@")[1:3]) for line in f if line.startswith("@spicemig")]


def expert_severities():
    """expert info name -> severity, from docs/fields.md (test_presentation
    checks it is current)."""
    with open(os.path.join(TOP, "docs", "fields.md")) as f:
        text = f.read().split("## Expert infos", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `(spicemig\.[\w.]+)` \| (\w+) \|", text, re.MULTILINE))


class Installed(unittest.TestCase):
    """cmake --install into a DESTDIR, as tools/make-deb does."""

    @classmethod
    def setUpClass(cls):
        cls.env = build_env()
        cls.stage = tempfile.mkdtemp(prefix="spicemig-install-")
        os.chmod(cls.stage, 0o755)
        cls.addClassCleanup(shutil.rmtree, cls.stage, True)
        subprocess.run(["cmake", "--install", BUILD], env=dict(os.environ, DESTDIR=cls.stage), check=True,
                       stdout=subprocess.DEVNULL)
        cls.profile_dir = cls.env["SPICEMIG_PROFILE_DIR"]

    def test_global_profiles_folder(self):
        if self.env["SPICEMIG_PLUGIN_DIR"].startswith(os.path.expanduser("~")):
            self.skipTest("built with SPICEMIG_INSTALL_USER=ON")
        # Wireshark's global profiles: its data directory's profiles/ (get_global_profiles_dir()).
        self.assertEqual(self.profile_dir, os.path.join(global_datadir(), "profiles", PROFILE))
        for name in FILES:
            with open(os.path.join(SOURCE, name), "rb") as source, \
                    open(self.stage + os.path.join(self.profile_dir, name), "rb") as installed:
                self.assertEqual(installed.read(), source.read(), name)
        self.assertEqual(sorted(os.listdir(self.stage + self.profile_dir)), FILES)

    def test_tshark_finds_it_among_the_global_profiles(self):
        # A data directory like Wireshark's own (WIRESHARK_DATA_DIR), whose
        # profiles/ holds Wireshark's global profiles and the installed one.
        datadir = tempfile.mkdtemp(prefix="spicemig-datadir-")
        self.addCleanup(shutil.rmtree, datadir, True)
        real = global_datadir()
        for name in os.listdir(real):
            if name != "profiles":
                os.symlink(os.path.join(real, name), os.path.join(datadir, name))
        profiles = os.path.join(datadir, "profiles")
        shutil.copytree(os.path.dirname(self.stage + self.profile_dir), profiles)
        subprocess.run(["chmod", "-R", "a+rX", datadir], check=True)
        rows = psml_rows(tshark("-C", PROFILE, "-r", capture("seamless-default.pcapng"), "-2",
                                "-Y", "frame.number == 281", "-T", "psml",
                                env={"WIRESHARK_DATA_DIR": datadir}))
        self.assertEqual([(row["No."], row["Role"], row["Hop"]) for row in rows],
                         [("281", "destination", "client\u2192destination")])


class Profile(unittest.TestCase):
    """The profile as Wireshark finds it in a data directory: the source tree's
    profiles/ (the same files cmake --install copies)."""

    @classmethod
    def setUpClass(cls):
        cls.datadir = tempfile.mkdtemp(prefix="spicemig-datadir-")
        cls.addClassCleanup(shutil.rmtree, cls.datadir, True)
        real = global_datadir()
        for name in os.listdir(real):
            if name != "profiles":
                os.symlink(os.path.join(real, name), os.path.join(cls.datadir, name))
        shutil.copytree(SOURCE, os.path.join(cls.datadir, "profiles", PROFILE))
        subprocess.run(["chmod", "-R", "a+rX", cls.datadir], check=True)

    def run_tshark(self, *args):
        return tshark("-C", PROFILE, *args, env={"WIRESHARK_DATA_DIR": self.datadir})

    def columns(self, capture_name, display_filter):
        return psml_rows(self.run_tshark("-r", capture(capture_name), "-2", "-Y", display_filter, "-T", "psml"))

    def coloured(self, capture_name):
        """rule name -> frames it colours (the first matching rule wins), for
        the spicemig rules."""
        text = self.run_tshark("-r", capture(capture_name), "-2", "--color", "-T", "fields",
                               "-e", "frame.number", "-e", "frame.coloring_rule.name")
        frames = {}
        for line in text.splitlines():
            number, rule = line.split("\t")
            if rule.startswith("spicemig"):
                frames.setdefault(rule, []).append(int(number))
        return frames

    def test_column_titles(self):
        rows = self.columns("seamless-default.pcapng", "frame.number == 1")
        self.assertEqual(list(rows[0]), ["No.", "Time", "Source", "Destination", "Protocol", "Length",
                                         "Role", "Hop", "Migration", "Outcome", "Info"])

    def test_migrate_data_columns(self):
        rows = self.columns("seamless-default.pcapng", 'spicemig.msg.name == "MIGRATE_DATA"')
        source, forwarded = "source\u2192client", "client\u2192destination"
        self.assertEqual([(row["No."], row["Role"], row["Hop"], row["Migration"], row["Outcome"]) for row in rows], [
            ("276", "source", source, "1", "completed"),
            ("277", "destination", forwarded, "1", "completed"),
            ("280", "source", source, "1", "completed"),
            ("281", "destination", forwarded, "1", "completed"),
            ("284", "source", source, "1", "completed"),
            ("296", "destination", forwarded, "1", "completed")])
        self.assertTrue(rows[3]["Info"].startswith("Display MIGRATE_DATA"), rows[3]["Info"])

    def test_columns_of_a_failed_migration(self):
        # dst-killed: MIGRATE_BEGIN_SEAMLESS on the source, the destination's
        # first FIN (its migration item under TCP: the failure shows there), MIGRATE_CANCEL.
        rows = self.columns("dst-killed.pcapng", "frame.number == 137 || frame.number == 223 || frame.number == 231")
        self.assertEqual([(row["No."], row["Role"], row["Hop"], row["Migration"], row["Outcome"]) for row in rows], [
            ("137", "source", "", "1", "failed"),
            ("223", "destination", "", "1", "failed"),
            ("231", "source", "", "1", "failed")])

    def test_error_and_warning_rules_name_exactly_spicemig_experts(self):
        severities = expert_severities()
        rules = dict(colour_rules())
        for rule, severity in (("spicemig error", "error"), ("spicemig warning", "warn")):
            self.assertEqual(sorted(rules[rule].split(" || ")),
                             sorted(name for name, level in severities.items() if level == severity), rule)

    # Each rule's filter alone (-Y), every frame it matches on captures with
    # and without problems.
    RULE_MATCHES = {
        "spicemig error": {
            "synthetic/malformed-pointer-out-of-bounds.pcap": [13],
            "synthetic/edge-msg-size.pcap": [9, 23, 25, 37, 53, 79, 93, 107],
        },
        "spicemig warning": {
            "dst-killed.pcapng": [223],
            "cancelled.pcapng": [223],
            "src-killed.pcapng": [225],
            "dst-link-refused.pcapng": [153, 157, 186],
            "synthetic/forward-modified.pcapng": [281],
            "synthetic/forward-missing.pcap": [52],
            "synthetic/edge-msg-size.pcap": [53, 54],
            "synthetic/malformed-trailing-data.pcap": [13],
        },
        # Both copies of a modified body: the source's carries no warning (the
        # difference shows only in the later frame), it gets the colour all the same.
        "spicemig forwarded copy modified": {
            "synthetic/forward-modified.pcapng": [280, 281],
        },
        "spicemig body forwarded to the destination": {
            "seamless-default.pcapng": [277, 281, 296],
            "synthetic/forward-modified.pcapng": [277, 281, 296],
            "synthetic/forward-missing.pcap": [51],
        },
        "spicemig body from the source": {
            "seamless-default.pcapng": [276, 280, 284],
            "synthetic/forward-modified.pcapng": [276, 280, 284],
            "synthetic/forward-missing.pcap": [41, 44],
            "synthetic/malformed-pointer-out-of-bounds.pcap": [13],
            "synthetic/edge-msg-size.pcap": [81, 95, 109],
            "synthetic/malformed-trailing-data.pcap": [13],
        },
        "spicemig milestone": {
            "seamless-default.pcapng": [174, 214, 245, 260, 262, 264, 266, 277, 281, 296, 316],
            "dst-killed.pcapng": [137, 155, 205, 231],
            "cancelled.pcapng": [138, 177, 207, 223],
            "src-killed.pcapng": [142, 187, 209],
            "dst-link-refused.pcapng": [138, 157, 159],
            "synthetic/forward-modified.pcapng": [174, 214, 245, 260, 262, 264, 266, 277, 281, 296, 316],
            "synthetic/forward-missing.pcap": [19, 29, 38, 39, 42, 51],
            "synthetic/malformed-pointer-out-of-bounds.pcap": [11],
            "synthetic/edge-msg-size.pcap": [9, 23, 37, 53],
            "synthetic/malformed-trailing-data.pcap": [11],
        },
    }

    def test_each_rule_filter_matches_exactly(self):
        rules = colour_rules()
        self.assertEqual([name for name, _ in rules], list(self.RULE_MATCHES))
        captures = sorted({name for matches in self.RULE_MATCHES.values() for name in matches})
        for rule, display_filter in rules:
            for capture_name in captures:
                with self.subTest(rule=rule, capture=capture_name):
                    frames = [int(row[0][0]) for row in fields(capture_name, display_filter, "frame.number")]
                    self.assertEqual(frames, self.RULE_MATCHES[rule].get(capture_name, []))

    def test_colours_of_a_seamless_migration(self):
        self.assertEqual(self.coloured("seamless-default.pcapng"), {
            "spicemig milestone": [174, 214, 245, 260, 262, 264, 266, 316],
            "spicemig body from the source": [276, 280, 284],
            "spicemig body forwarded to the destination": [277, 281, 296]})

    def test_colours_of_problems(self):
        # The first rule that matches wins: errors, warnings, bodies, milestones.
        self.assertEqual(self.coloured("synthetic/forward-modified.pcapng"), {
            "spicemig milestone": [174, 214, 245, 260, 262, 264, 266, 316],
            "spicemig body from the source": [276, 284],
            "spicemig forwarded copy modified": [280],
            "spicemig body forwarded to the destination": [277, 296],
            "spicemig warning": [281]})
        self.assertEqual(self.coloured("dst-killed.pcapng"), {
            "spicemig milestone": [137, 155, 205, 231], "spicemig warning": [223]})
        self.assertEqual(self.coloured("synthetic/edge-msg-size.pcap"), {
            "spicemig error": [9, 23, 25, 37, 53, 79, 93, 107], "spicemig warning": [54],
            "spicemig body from the source": [81, 95, 109]})


if __name__ == "__main__":
    unittest.main()
