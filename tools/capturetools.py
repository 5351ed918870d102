"""Shared helpers of the tools that record real test captures.

Used by make-migration-capture and make-vnc-capture: running child processes
that never outlive the tool, a dumpcap capture on the loopback interface, a
minimal QMP client and a diskless QEMU controlled through it.
"""

import contextlib
import ctypes
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

QEMU = "qemu-system-x86_64"
LOCALHOST = "127.0.0.1"

STARTUP_TIMEOUT = 10
STOP_TIMEOUT = 5
# Time for the last packets to reach dumpcap before it is stopped.
SETTLE_TIME = 0.5

verbose = False


class ToolError(Exception):
    """A failure with a message meant for the user."""


def log(message):
    if verbose:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait_until(condition, timeout, what, interval=0.05):
    """Poll condition() until it is true; raise ToolError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ToolError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def run_with_deadline(seconds, function, *arguments):
    """Call function, raising ToolError in it if it runs longer than seconds
    or if the tool gets SIGTERM, so that its cleanup code still runs."""
    def on_alarm(_signum, _frame):
        raise ToolError(f"the run took longer than {seconds} s")

    def on_sigterm(_signum, _frame):
        raise ToolError("terminated")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.alarm(seconds)
    try:
        return function(*arguments)
    finally:
        signal.alarm(0)


# --------------------------------------------------------------------------
# Child processes


def _die_with_parent():
    """Runs in each child before exec: the kernel sends it SIGTERM if the tool
    dies without cleaning up (e.g. SIGKILL), so nothing is left running."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_process(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=None,
                  stdin=None):
    log("starting: " + " ".join(command))
    return subprocess.Popen(command, stdin=subprocess.DEVNULL if stdin is None else stdin,
                            stdout=stdout,
                            stderr=stderr, env=env, preexec_fn=_die_with_parent)


def stop_process(process, sig=signal.SIGTERM):
    """Ask a child to exit with sig, kill it if it does not within STOP_TIMEOUT."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        log(f"pid {process.pid} ignored signal {sig}, killing it")
        process.kill()
        process.wait(STOP_TIMEOUT)


def tail(path, lines=20):
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def ensure_port_free(port):
    """Fail early with a clear message if something already listens on port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOCALHOST, port))
        except OSError as error:
            raise ToolError(f"TCP port {port} is not free: {error}") from None


def free_tcp_port():
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------
# Packet capture


class Capture:
    """dumpcap on the loopback interface, restricted to the given TCP ports.
    Full packets: no snap length, the payloads are what the tests need."""

    def __init__(self, out_path, ports, workdir):
        self.out_path = Path(out_path)
        self.filter = " or ".join(f"tcp port {port}" for port in ports)
        self.log_path = Path(workdir) / "dumpcap.log"
        self.process = None

    def start(self):
        # Remove an old file so that "the file exists" means "dumpcap opened it".
        self.out_path.unlink(missing_ok=True)
        with open(self.log_path, "wb") as log_file:
            self.process = start_process(
                ["dumpcap", "-q", "-i", "lo", "-f", self.filter, "-w", str(self.out_path)],
                stderr=log_file)
        wait_until(self._capturing, STARTUP_TIMEOUT, "dumpcap to start capturing")
        # dumpcap reports "Capturing on" just before its capture loop runs.
        time.sleep(0.5)
        log(f"capturing '{self.filter}' into {self.out_path}")

    def _capturing(self):
        if self.process.poll() is not None:
            raise ToolError(f"dumpcap exited early:\n{tail(self.log_path)}")
        return (self.out_path.exists() and self.out_path.stat().st_size > 0
                and b"Capturing on" in self.log_path.read_bytes())

    def stop(self):
        if self.process is not None:
            # Let dumpcap read what the kernel still buffers, then stop it the
            # way a user would (SIGINT), which finishes the pcapng file cleanly.
            time.sleep(SETTLE_TIME)
            stop_process(self.process, signal.SIGINT)
            # dumpcap creates the file mode 0600; the tests read it as an
            # unprivileged user (root's tshark ignores personal plugins).
            if self.out_path.exists():
                self.out_path.chmod(0o644)
            log("capture stopped")


# --------------------------------------------------------------------------
# QEMU and QMP


class QmpError(ToolError):
    pass


class Qmp:
    """Minimal synchronous QMP client over a unix socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(STARTUP_TIMEOUT)  # no QMP command may hang the tool
        self.sock.connect(str(path))
        self.reader = self.sock.makefile("rb")
        greeting = self._read_message()
        if "QMP" not in greeting:
            raise QmpError(f"unexpected QMP greeting: {greeting}")
        self.command("qmp_capabilities")

    def _read_message(self):
        line = self.reader.readline()
        if not line:
            raise QmpError("QMP connection closed")
        return json.loads(line)

    def command(self, name, **arguments):
        request = {"execute": name}
        if arguments:
            request["arguments"] = arguments
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        while True:
            reply = self._read_message()
            if "event" in reply:  # asynchronous events are not replies
                continue
            if "error" in reply:
                raise QmpError(f"QMP {name} failed: {reply['error'].get('desc', reply)}")
            return reply.get("return")

    def close(self):
        self.reader.close()
        self.sock.close()


class Qemu:
    """A diskless x86 QEMU (no guest OS, only the firmware runs) with a QMP
    socket in workdir.  arguments: the device and display options; env: the
    environment of the QEMU process (None: the tool's)."""

    def __init__(self, name, arguments, workdir, env=None):
        self.name = name
        self.env = env
        self.qmp_path = Path(workdir) / f"{name}.qmp"
        self.log_path = Path(workdir) / f"{name}.log"
        self.command = [QEMU, "-name", name,
                        "-machine", "pc", "-accel", "tcg", "-m", "64", "-nodefaults",
                        *arguments,
                        "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        self.process = None
        self.qmp = None

    def start(self):
        with open(self.log_path, "wb") as log_file:
            self.process = start_process(self.command, stdout=log_file, stderr=log_file,
                                         env=self.env)
        wait_until(self._qmp_socket_ready, STARTUP_TIMEOUT, f"{self.name} QEMU's QMP socket")
        # QMP answers once QEMU's main loop runs, i.e. after its display servers listen.
        self.qmp = Qmp(self.qmp_path)

    def _qmp_socket_ready(self):
        if self.process.poll() is not None:
            raise ToolError(f"{self.name} QEMU exited early:\n{tail(self.log_path)}")
        return self.qmp_path.exists()

    def kill(self):
        """SIGKILL, as a crash would end it: no QMP, no clean shutdown."""
        log(f"killing {self.name} QEMU (pid {self.process.pid}) with SIGKILL")
        self.process.kill()
        self.process.wait(STOP_TIMEOUT)

    def exited(self):
        return self.process is not None and self.process.poll() is not None

    def stop(self):
        if self.process is None:
            return
        if self.qmp is not None:
            with contextlib.suppress(OSError, ToolError):
                self.qmp.command("quit")
            self.qmp.close()
        stop_process(self.process)
