"""Server CPU for one big command sent whole and in 1 KiB pieces, each piece
its own recv: shows whether a partial command is rescanned per recv.

    .venv/bin/python perf/trickle_cost.py <ringkv-server binary> <nargs>
"""
import os, socket, subprocess, sys, time
sys.path.insert(0, "Tests/integration")
import harness
binary, nargs = sys.argv[1], int(sys.argv[2])
port = harness.free_port()
p = subprocess.Popen([binary, "--port", str(port), "--shards", "1", "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL)
time.sleep(0.5)
def cpu():
    f = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
payload = harness.encode(*(["EXISTS"] + [f"nokey:{i}" for i in range(nargs)]))
for piece in (len(payload), 1024):
    s = socket.create_connection(("127.0.0.1", port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c0 = cpu(); t0 = time.time()
    for i in range(0, len(payload), piece):
        s.sendall(payload[i:i+piece])
        if piece < len(payload): time.sleep(0.0002)
    s.settimeout(600); s.recv(100)
    print(f"{binary} args={nargs} piece={piece}: server CPU {cpu()-c0:.3f}s wall {time.time()-t0:.2f}s")
p.terminate()
