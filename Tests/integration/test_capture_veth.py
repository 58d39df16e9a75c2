"""ringkv-capture on real Ethernet: a veth pair into a namespace of our own.

Loopback has zero MACs and no Ethernet worth testing, so this builds its own
wire: a veth pair with fixed MACs, one end in a fresh network namespace,
static ARP entries and IPv6 off so nothing but our traffic crosses it. Then
it sends a known set of frames and checks that ringkv-capture, its pcap file
read back by tshark, and the known set all agree.

Traffic is chosen to be exact: UDP datagrams to a bound socket in the
namespace (no replies), and TCP connects to a closed port, each of which is
one SYN answered by one RST.

Binary: $RINGKV_CAPTURE_BIN, else .build/release/ringkv-capture, else
.build/debug/ringkv-capture. Needs root (netns, veth, CAP_NET_RAW).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="needs root: creates a network namespace and veth pair, and AF_PACKET needs CAP_NET_RAW",
)

REPO = Path(__file__).resolve().parents[2]

MAC_A = "02:00:5e:10:00:0a"  # root-namespace end
MAC_B = "02:00:5e:10:00:0b"  # namespace end
UDP_PORT = 47001
CLOSED_PORT = 47002
UDP_SIZES = [0, 1, 100, 200, 1000, 1400]  # payload bytes; frame = 42 + payload
TCP_CONNECTS = 3
LINE = re.compile(
    r"^Frame: ([0-9a-f:]{17}) -> ([0-9a-f:]{17}) \[Type: 0x([0-9a-f]{4})\] Size: (\d+) bytes"
)


def capture_bin() -> str:
    env = os.environ.get("RINGKV_CAPTURE_BIN")
    if env:
        return env
    for candidate in (REPO / ".build/release/ringkv-capture", REPO / ".build/debug/ringkv-capture"):
        if candidate.exists():
            return str(candidate)
    pytest.fail("ringkv-capture not built: run `swift build --product ringkv-capture` or set RINGKV_CAPTURE_BIN",
                pytrace=False)


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


class Wire:
    """The namespace, the veth pair and the addresses on it."""

    def __init__(self) -> None:
        tag = os.getpid() % 100000
        self.ns = f"rkvcap{tag}"
        self.a = f"rkc{tag}a"
        self.b = f"rkc{tag}b"
        # A subnet per pid so parallel runs never share a route, skipping any
        # the host already routes (a clash could take over its gateway).
        taken = sh("ip", "-o", "-4", "addr").stdout + sh("ip", "-4", "route").stdout
        third = next(n for n in [(tag + i) % 250 for i in range(250)] if f"10.251.{n}." not in taken)
        net = f"10.251.{third}"
        self.ip_a, self.ip_b, self.ip_b2 = f"{net}.1", f"{net}.2", f"{net}.3"
        self.listener: subprocess.Popen | None = None

    def up(self) -> "Wire":
        sh("ip", "netns", "add", self.ns)
        sh("ip", "link", "add", self.a, "address", MAC_A, "type", "veth",
           "peer", "name", self.b, "address", MAC_B, "netns", self.ns)
        # IPv6 off before link up: no router solicitations or MLD reports
        # to spoil exact frame counts.
        Path(f"/proc/sys/net/ipv6/conf/{self.a}/disable_ipv6").write_text("1")
        sh("ip", "netns", "exec", self.ns, "sh", "-c", f"echo 1 > /proc/sys/net/ipv6/conf/{self.b}/disable_ipv6")
        sh("ip", "addr", "add", f"{self.ip_a}/24", "dev", self.a)
        sh("ip", "-n", self.ns, "addr", "add", f"{self.ip_b}/24", "dev", self.b)
        sh("ip", "-n", self.ns, "addr", "add", f"{self.ip_b2}/24", "dev", self.b)
        # Static neighbours: no ARP exchange mixed into the counted frames.
        sh("ip", "neigh", "replace", self.ip_b, "lladdr", MAC_B, "dev", self.a, "nud", "permanent")
        sh("ip", "neigh", "replace", self.ip_b2, "lladdr", MAC_B, "dev", self.a, "nud", "permanent")
        sh("ip", "-n", self.ns, "neigh", "replace", self.ip_a, "lladdr", MAC_A, "dev", self.b, "nud", "permanent")
        sh("ip", "link", "set", self.a, "up")
        sh("ip", "-n", self.ns, "link", "set", self.b, "up")
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        # A UDP socket bound in the namespace, so datagrams draw no ICMP reply.
        code = ("import socket,sys,time\n"
                "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                f"s.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,1<<20)\n"
                f"s.bind(('0.0.0.0',{UDP_PORT}))\n"
                "print('ready',flush=True)\n"
                "time.sleep(600)\n")
        self.listener = subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, "-c", code],
                                         stdout=subprocess.PIPE, text=True)
        assert self.listener.stdout.readline().strip() == "ready"
        self._wait_carrier()
        return self

    def _wait_carrier(self) -> None:
        deadline = time.time() + 5
        while time.time() < deadline:
            if "LOWER_UP" in sh("ip", "link", "show", self.a).stdout:
                time.sleep(0.2)  # let link-up housekeeping settle
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.a} never came up")

    def down(self) -> None:
        if self.listener:
            self.listener.kill()
            self.listener.wait()
        sh("ip", "link", "del", self.a, check=False)
        sh("ip", "netns", "del", self.ns, check=False)

    def send_udp(self, sizes=UDP_SIZES, dst: str | None = None, port: int = UDP_PORT) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((self.ip_a, 0))
            for n in sizes:
                s.sendto(b"u" * n, (dst or self.ip_b, port))
                time.sleep(0.002)  # keep frame order identical to send order

    def send_tcp_refused(self, count: int = TCP_CONNECTS, dst: str | None = None) -> None:
        for _ in range(count):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((self.ip_a, 0))
                s.settimeout(3)
                with pytest.raises(ConnectionRefusedError):
                    s.connect((dst or self.ip_b, CLOSED_PORT))


@pytest.fixture(scope="module")
def wire():
    for tool in ("ip", "tshark"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not installed", pytrace=False)
    w = Wire()
    try:
        yield w.up()
    finally:
        w.down()
    assert w.ns not in sh("ip", "netns", "list").stdout, "namespace left behind"
    assert sh("ip", "link", "show", w.a, check=False).returncode != 0, "veth left behind"


class Capture:
    """ringkv-capture running in the background, started and ready."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([capture_bin(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        banner = self.proc.stderr.readline()
        if "listening on" not in banner:
            out, err = self.proc.communicate(timeout=5)
            raise AssertionError(f"capture did not start: {banner}{err}")
        self.banner = banner

    def finish(self, timeout: float = 10.0) -> tuple[int, list[str], str]:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"capture did not stop in {timeout}s; saw:\n{out}\n{err}")
        return self.proc.returncode, out.splitlines(), err

    def interrupt(self) -> tuple[int, list[str], str]:
        self.proc.send_signal(signal.SIGINT)
        return self.finish()


def expected_frames(wire: Wire) -> list[dict]:
    udp = [dict(src=MAC_A, dst=MAC_B, type=0x0800, size=42 + n, proto=17, direction="out") for n in UDP_SIZES]
    tcp = []
    for _ in range(TCP_CONNECTS):
        tcp.append(dict(src=MAC_A, dst=MAC_B, type=0x0800, size=None, proto=6, direction="out", flags="S"))
        tcp.append(dict(src=MAC_B, dst=MAC_A, type=0x0800, size=54, proto=6, direction="in", flags="R."))
    return udp + tcp


def tshark_frames(path: str) -> list[tuple[int, int, str, str, int]]:
    r = sh("tshark", "-r", path, "-T", "fields", "-E", "separator=,",
           "-e", "frame.len", "-e", "frame.cap_len", "-e", "eth.src", "-e", "eth.dst", "-e", "eth.type")
    rows = []
    for line in r.stdout.splitlines():
        length, caplen, src, dst, etype = line.split(",")
        rows.append((int(length), int(caplen), src, dst, int(etype, 16)))
    return rows


def test_count_text_lines_and_pcap_agree_with_tshark(wire, tmp_path):
    expected = expected_frames(wire)
    pcap = str(tmp_path / "veth.pcap")
    cap = Capture("--interface", wire.a, "--count", str(len(expected)), "--write", pcap)
    wire.send_udp()
    wire.send_tcp_refused()
    rc, lines, err = cap.finish()
    assert rc == 0, err
    assert len(lines) == len(expected), "\n".join(lines)

    seen = []
    for line in lines:
        m = LINE.match(line)
        assert m, f"not the seed's line format: {line!r}"
        seen.append((m[1], m[2], int(m[3], 16), int(m[4])))
    for (src, dst, etype, size), want in zip(seen, expected):
        assert (src, dst, etype) == (want["src"], want["dst"], want["type"])
        if want["size"] is not None:
            assert size == want["size"]
        else:
            assert 60 <= size <= 80, f"SYN with options should be 66..78 bytes, got {size}"
    assert f"{len(expected)} frames captured" in err
    assert f"{len(expected)} written to {pcap}" in err

    rows = tshark_frames(pcap)
    assert len(rows) == len(seen)
    for (length, caplen, src, dst, etype), (s_src, s_dst, s_type, s_size) in zip(rows, seen):
        assert (length, caplen, src, dst, etype) == (s_size, s_size, s_src, s_dst, s_type)


def test_json_reports_direction_ports_and_flags(wire):
    expected = expected_frames(wire)
    cap = Capture("-i", wire.a, "-c", str(len(expected)), "--json")
    wire.send_udp()
    wire.send_tcp_refused()
    rc, lines, err = cap.finish()
    assert rc == 0, err
    frames = [json.loads(line) for line in lines]
    assert len(frames) == len(expected)
    for f, want in zip(frames, expected):
        assert f["src"] == want["src"] and f["dst"] == want["dst"]
        assert f["ethertype"] == want["type"] and f["ethertype_hex"] == "0x0800"
        assert f["direction"] == want["direction"]
        assert f["interface"] == wire.a
        assert f["len"] == f["caplen"]
        assert f["ip"]["proto"] == want["proto"]
        assert "problem" not in f
        if want["proto"] == 17:
            assert f["len"] == want["size"]
            assert (f["ip"]["src"], f["ip"]["dst"], f["dst_port"]) == (wire.ip_a, wire.ip_b, UDP_PORT)
            assert f["payload_len"] == want["size"] - 42
        else:
            assert f["tcp_flags"] == want["flags"]
            port = f["dst_port"] if want["direction"] == "out" else f["src_port"]
            assert port == CLOSED_PORT


def test_kernel_filters_port_and_host(wire):
    # Port: only the datagrams to UDP_PORT, none of the TCP.
    cap = Capture("-i", wire.a, "--count", str(len(UDP_SIZES)), "--port", str(UDP_PORT), "--json")
    assert "filter in kernel" in cap.banner
    wire.send_tcp_refused(1)
    wire.send_udp()
    rc, lines, err = cap.finish()
    assert rc == 0, err
    assert [json.loads(l)["len"] for l in lines] == [42 + n for n in UDP_SIZES]

    # Host: only traffic to the namespace's second address, replies included.
    cap = Capture("-i", wire.a, "--count", "4", "--host", wire.ip_b2, "--json")
    wire.send_udp([7, 8], dst=wire.ip_b)       # filtered out
    wire.send_tcp_refused(2, dst=wire.ip_b2)  # SYN + RST each
    rc, lines, err = cap.finish()
    assert rc == 0, err
    frames = [json.loads(l) for l in lines]
    assert len(frames) == 4
    assert all(wire.ip_b2 in (f["ip"]["src"], f["ip"]["dst"]) for f in frames)
    assert [f["tcp_flags"] for f in frames] == ["S", "R.", "S", "R."]

    # EtherType: ARP only, so IPv4 traffic never shows.
    cap = Capture("-i", wire.a, "--duration", "1", "--ethertype", "arp")
    wire.send_udp([1])
    rc, lines, err = cap.finish()
    assert rc == 0 and lines == [], lines


def test_sigint_prints_summary_and_stats(wire):
    cap = Capture("-i", wire.a, "--stats")
    wire.send_udp([10, 20, 30])
    time.sleep(0.3)  # past the ring's block retire timeout
    rc, lines, err = cap.interrupt()
    assert rc == 0, err
    assert sum(1 for l in lines if l.startswith("Frame: ")) == 3
    assert "frames: 3" in lines
    assert f"bytes: {3 * 42 + 60}" in lines
    assert "kernel drops: 0" in lines
    assert "  0x0800 IPv4: 3" in lines
    assert "  17 UDP: 3" in lines
    assert "3 frames captured" in err


def test_duration_stops_on_time(wire):
    start = time.monotonic()
    cap = Capture("-i", wire.a, "--duration", "0.5")
    rc, lines, err = cap.finish(timeout=5)
    assert rc == 0, err
    assert time.monotonic() - start < 3


def test_errors_are_one_clear_line(wire):
    r = sh(capture_bin(), "--interface", "no-such-if9", check=False)
    assert r.returncode != 0
    err = r.stderr.strip().splitlines()
    assert len(err) == 1, r.stderr
    assert "unknown interface 'no-such-if9'" in err[0]
    assert "lo" in err[0] and wire.a in err[0], "should list the interfaces that exist"

    # Root without CAP_NET_RAW in its bounding set: what a container gets
    # without --cap-add NET_RAW.
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv not installed")
    r = sh("setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", capture_bin(), "-i", wire.a, "-c", "1",
           check=False)
    assert r.returncode != 0
    assert r.stderr.strip() == ("ringkv-capture: capture needs CAP_NET_RAW: run as root or "
                                "add --cap-add NET_RAW to docker run")
