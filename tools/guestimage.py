"""The guest desktop image that tools/make-guest-image builds, as QEMU needs it.

For recorders (e.g. a future `tools/make-migration-capture --guest`):

    import guestimage
    image = guestimage.GuestImage()          # build/guest/ of this tree
    image.require()                          # ToolError unless built and current
    disk = image.make_overlay(workdir)       # throw-away qcow2 over the cached disk
    arguments = image.qemu_arguments(disk, serial_log=workdir / "serial.log")

qemu_arguments() gives the guest part only: memory, kernel, initrd, kernel
command line, the virtio disk, the serial console and the spice-vdagent port
(virtio-serial + spicevmc chardev named com.redhat.spice.0).  The display
(-vga qxl or -device qxl-vga) and -spice stay the caller's.  Both QEMUs of a
migration get the SAME overlay: the destination (-incoming) opens it inactive
and takes it over at switch-over, as with shared storage (tried: the
desktop migrated at its session with 1024 MB took 4 s, 508 MB of RAM sent,
and the destination kept drawing).  The cached disk is never written (every
boot writes to its own overlay).  Boots take ~40 s to the session under TCG:
a recorder's overall timeout must allow for that.

The guest writes these lines on its serial console (ttyS0):
    spicemig-guest: session ready         X, twm and every client window are up
    spicemig-guest: session agent started spice-vdagent (session agent) runs
SESSION_READY and AGENT_STARTED below.

The same information from the command line: `tools/make-guest-image
--print-qemu-args OVERLAY`.
"""

import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import capturetools
from capturetools import LOCALHOST, ToolError, free_tcp_port, log, start_process, stop_process, tail

TOOLS_DIR = Path(__file__).resolve().parent
RECIPE = TOOLS_DIR / "make-guest-image"
DEFAULT_DIR = TOOLS_DIR.parent / "build" / "guest"

# The spice client needs gi, which only Debian's own python has.
SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

SESSION_READY = "spicemig-guest: session ready"
AGENT_STARTED = "spicemig-guest: session agent started"

# The guest's memory: Xorg, llvmpipe (glxgears) and the agent fit in far
# less, but the page cache of a 1 GB disk makes boots faster under TCG.
DEFAULT_MEMORY_MB = 1024

KERNEL_APPEND = "root=/dev/vda rw console=ttyS0 quiet loglevel=3 systemd.show_status=false"

# The guest's screen (its xorg.conf and session use it).
SCREEN = (800, 600)


class GuestImageError(ToolError):
    """The image is missing or stale (message meant for the user)."""


def recipe_hash():
    """What the image is built from: the script make-guest-image (package
    list, guest files, image layout).  A change of it means a rebuild."""
    return hashlib.sha256(RECIPE.read_bytes()).hexdigest()


class GuestImage:
    """The cached image in directory (default build/guest/ of this tree)."""

    def __init__(self, directory=None):
        self.directory = Path(directory or DEFAULT_DIR)
        self.kernel = self.directory / "vmlinuz"
        self.initrd = self.directory / "initrd.img"
        self.disk = self.directory / "disk.qcow2"
        self.hash_file = self.directory / "recipe.sha256"

    def files(self):
        return [self.kernel, self.initrd, self.disk]

    def is_current(self):
        """Built, complete and made by the current recipe."""
        try:
            built_from = self.hash_file.read_text().strip()
        except OSError:
            return False
        return built_from == recipe_hash() and all(path.is_file() for path in self.files())

    def require(self):
        if not self.is_current():
            raise GuestImageError(f"no current guest image in {self.directory}: "
                                  f"run tools/make-guest-image (as root) first")

    def make_overlay(self, workdir, name="guest-overlay.qcow2"):
        """A new qcow2 overlay in workdir over the cached disk; returns its path."""
        overlay = Path(workdir) / name
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
                        "-b", str(self.disk.resolve()), str(overlay)], check=True)
        return overlay

    def qemu_arguments(self, disk, serial_log=None, memory_mb=DEFAULT_MEMORY_MB):
        """QEMU options that boot the guest from disk (an overlay from
        make_overlay) with the agent's port.  serial_log: a file for the
        guest's serial console (its session lines); None: no serial port.
        A later -m wins over an earlier one, so these may follow a caller's
        own -m."""
        arguments = [
            "-m", str(memory_mb),
            "-kernel", str(self.kernel.resolve()),
            "-initrd", str(self.initrd.resolve()),
            "-append", KERNEL_APPEND,
            "-drive", f"file={disk},format=qcow2,if=virtio",
            "-device", "virtio-serial",
            "-chardev", "spicevmc,id=vdagent,name=vdagent",
            "-device", "virtserialport,chardev=vdagent,name=com.redhat.spice.0",
        ]
        if serial_log is not None:
            arguments += ["-chardev", f"file,id=serial0,path={serial_log}",
                          "-serial", "chardev:serial0"]
        return arguments


# --------------------------------------------------------------------------
# Checking: boot it under TCG with a headless spice-gtk client


CHECK_TIMEOUT = 600
# After both lines: how long to watch the display (video stream, redraws).
WATCH_SECONDS = 20


def run_spice_client(uri):
    """Child-process entry point: connect to uri and report on stdout:
    "agent-connected BOOL", "mouse-mode N", "primary-create WxH",
    "draws N" (display invalidations, every 5 s while they change)."""
    import gi
    gi.require_version("SpiceClientGLib", "2.0")
    from gi.repository import GLib, GObject, SpiceClientGLib

    # GLib writes debug messages (SPICE_DEBUG) to stdout by default: keep
    # stdout for the report lines.
    GLib.log_writer_default_set_use_stderr(True)
    loop = GLib.MainLoop()
    session = SpiceClientGLib.Session(uri=uri)
    draws = 0
    reported = -1

    def report(*words):
        print(*words, flush=True)

    def on_agent(main, _pspec):
        report("agent-connected", main.props.agent_connected)

    def on_mouse_mode(main, _pspec):
        report("mouse-mode", main.props.mouse_mode)

    def on_primary(_display, _format, width, height, *_rest):
        report("primary-create", f"{width}x{height}")

    def on_invalidate(*_args):
        nonlocal draws
        draws += 1

    def report_draws():
        nonlocal reported
        if draws != reported:
            report("draws", draws)
            reported = draws
        return GLib.SOURCE_CONTINUE

    def on_channel_new(_session, channel):
        if isinstance(channel, SpiceClientGLib.MainChannel):
            GObject.Object.connect(channel, "notify::agent-connected", on_agent)
            GObject.Object.connect(channel, "notify::mouse-mode", on_mouse_mode)
            return
        if isinstance(channel, SpiceClientGLib.DisplayChannel):
            GObject.Object.connect(channel, "display-primary-create", on_primary)
            GObject.Object.connect(channel, "display-invalidate", on_invalidate)
        channel.connect()  # session.connect() only opens the main channel

    def on_sigterm():
        session.disconnect()
        GLib.timeout_add(300, loop.quit)
        return GLib.SOURCE_REMOVE

    GObject.Object.connect(session, "channel-new", on_channel_new)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, on_sigterm)
    GLib.timeout_add_seconds(5, report_draws)
    GLib.timeout_add_seconds(CHECK_TIMEOUT + 60, loop.quit)  # never outlive the tool
    if not session.connect():
        report("error", "session connect failed")
        return 1
    loop.run()
    return 0


class LineReader:
    """New complete lines of a growing file or pipe."""

    def __init__(self):
        self.buffer = b""

    def feed(self, data):
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        return [line.decode(errors="replace").rstrip("\r") for line in lines]


def check(image, workdir, memory_mb=DEFAULT_MEMORY_MB):
    """Boot the image on an overlay in workdir (an empty folder; its logs
    stay there) with a headless spice-gtk client; wait for the session and
    the agent and watch the display WATCH_SECONDS more.  Prints what it
    sees with the time since QEMU's start; returns those times by name
    ("session", "agent", ...).  ToolError on a timeout or an exit."""
    workdir = Path(workdir)
    overlay = image.make_overlay(workdir)
    serial_log = workdir / "serial.log"
    client_log = workdir / "client.log"
    qemu_log = workdir / "qemu.log"
    qmp_path = workdir / "qemu.qmp"
    screen = workdir / "screen.png"
    port = free_tcp_port()
    command = ["nice", capturetools.QEMU, "-name", "spicemig-guest-check", "-machine", "pc",
               "-accel", "tcg", "-nodefaults", "-vga", "qxl", "-display", "none",
               "-spice", f"port={port},addr={LOCALHOST},disable-ticketing=on,"
                         "streaming-video=all",
               *image.qemu_arguments(overlay, serial_log=serial_log, memory_mb=memory_mb),
               "-qmp", f"unix:{qmp_path},server=on,wait=off"]
    print("== booting: " + " ".join(command), flush=True)
    qemu = client = None
    ok = False
    events = {}
    started = time.monotonic()
    try:
        with open(qemu_log, "wb") as log_file:
            qemu = start_process(command, stdout=log_file, stderr=log_file)

        def elapsed():
            return time.monotonic() - started

        def note(name, text):
            if name not in events:
                events[name] = elapsed()
                print(f"[{events[name]:6.1f} s] {text}", flush=True)

        capturetools.wait_until(lambda: port_open(port, qemu, qemu_log), 20, "QEMU's SPICE port")
        env = dict(os.environ, SPICE_DEBUG="1", G_MESSAGES_DEBUG="all")
        with open(client_log, "wb") as log_file:
            client = start_process([SYSTEM_PYTHON, __file__, "--run-spice-client",
                                    f"spice://{LOCALHOST}?port={port}"],
                                   stdout=subprocess.PIPE, stderr=log_file, env=env)
        flags = fcntl.fcntl(client.stdout, fcntl.F_GETFL)
        fcntl.fcntl(client.stdout, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        client_lines, serial_lines = LineReader(), LineReader()
        serial_offset = 0
        watch_until = None
        while True:
            if qemu.poll() is not None:
                raise ToolError(f"QEMU exited ({qemu.returncode}):\n{tail(qemu_log)}")
            if client.poll() is not None:
                raise ToolError(f"spice client exited:\n{tail(client_log)}")
            try:
                data = client.stdout.read() or b""
            except BlockingIOError:
                data = b""
            for line in client_lines.feed(data):
                log(f"client: {line}")
                if line == "agent-connected True":
                    note("agent", "client: main channel agent-connected = True")
                elif line.startswith("primary-create"):
                    note("primary-" + line, f"client: display {line}")
                elif line.startswith("mouse-mode"):
                    note(line, f"client: {line} (2: client mode, the agent's)")
                elif line.startswith("draws"):
                    events["draws"] = int(line.split()[1])
            if serial_log.exists():
                with open(serial_log, "rb") as serial:
                    serial.seek(serial_offset)
                    data = serial.read()
                    serial_offset += len(data)
                for line in serial_lines.feed(data):
                    log(f"serial: {line}")
                    if line.startswith("spicemig-guest:"):
                        note(line, f"serial: {line}")
                    if line.startswith(SESSION_READY):
                        events["session"] = events[line]
                    elif line.startswith(AGENT_STARTED):
                        events["agent-started"] = events[line]
            if watch_until is None and "session" in events and "agent" in events:
                watch_until = elapsed() + WATCH_SECONDS
                print(f"== session and agent up; watching the display for {WATCH_SECONDS} s",
                      flush=True)
            if watch_until is not None and elapsed() > watch_until:
                break
            if elapsed() > CHECK_TIMEOUT:
                missing = [name for name in ("session", "agent") if name not in events]
                raise ToolError(f"timed out after {CHECK_TIMEOUT} s waiting for {missing}; "
                                f"serial console:\n{tail(serial_log)}")
            time.sleep(0.2)
        ok = True
    finally:
        if qemu is not None and qemu.poll() is None and qmp_path.exists():
            # What the guest shows (QEMU's own copy of the qxl screen).
            try:
                qmp = capturetools.Qmp(qmp_path)
                qmp.command("screendump", filename=str(screen), format="png")
                qmp.close()
                print(f"screen: {screen}")
            except (OSError, ToolError) as error:
                print(f"no screendump: {error}", file=sys.stderr)
        if client is not None:
            stop_process(client)
        if qemu is not None:
            stop_process(qemu)
        if ok:
            overlay.unlink(missing_ok=True)  # else kept: its /var/log tells what went wrong
    streams = client_log.read_text(errors="replace").count("display_handle_stream_create")
    print(f"boot to session ready:    {events['session']:.1f} s")
    print(f"boot to agent connected:  {events['agent']:.1f} s (client's main channel)")
    print(f"display invalidations:    {events.get('draws', 0)} "
          f"(client's display channel, until the end)")
    print(f"video streams created:    {streams} (spice-gtk debug log)")
    print(f"logs: {workdir}")
    if not streams:
        print("warning: no video stream was created", file=sys.stderr)
    return events


def port_open(port, qemu, qemu_log):
    if qemu.poll() is not None:
        raise ToolError(f"QEMU exited ({qemu.returncode}):\n{tail(qemu_log)}")
    with socket.socket() as probe:
        return probe.connect_ex((LOCALHOST, port)) == 0


if __name__ == "__main__":
    # The spice client of check() runs as a child: this file with Debian's python.
    if len(sys.argv) == 3 and sys.argv[1] == "--run-spice-client":
        sys.exit(run_spice_client(sys.argv[2]))
    sys.exit("usage: import guestimage (see its doc string); tools/make-guest-image --help")
