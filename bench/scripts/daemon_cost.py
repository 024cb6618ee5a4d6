#!/usr/bin/env python3
"""Hand measurements of a `shoal daemon` (docs/performance.md, section 8.1): the cost of adding torrents over the API
and of holding them idle, as CPU-seconds the daemon process consumed (from /proc/PID/stat) and wall time.

  daemon_cost.py make N DIR                          N single-file torrents of 64 KiB (seeded) in DIR/content, DIR/torrents
  daemon_cost.py add SHOAL_DLL DIR COUNT MODE         adds COUNT of them to a fresh daemon; MODE: multi (multipart, 250 a
                                                     request), json (one request per torrent), cli (one `shoal add` of all)
  daemon_cost.py idle SHOAL_DLL DIR COUNT SETTLE WIN  adds COUNT (multi), waits until all seed and SETTLE s more, then
                                                     measures the daemon's CPU over WIN s
"""
import hashlib, json, os, random, shutil, subprocess, sys, threading, time, urllib.request, uuid, base64


def benc(x):
    if isinstance(x, int): return b"i%de" % x
    if isinstance(x, bytes): return b"%d:" % len(x) + x
    if isinstance(x, str): return benc(x.encode())
    if isinstance(x, dict): return b"d" + b"".join(benc(k) + benc(x[k]) for k in sorted(x)) + b"e"
    raise TypeError(type(x))


def make(n, root):
    os.makedirs(root + "/content", exist_ok=True)
    os.makedirs(root + "/torrents", exist_ok=True)
    r = random.Random(15)
    for i in range(n):
        data = r.randbytes(65536)
        name = "t%06d.bin" % i
        with open(root + "/content/" + name, "wb") as f: f.write(data)
        pieces = b"".join(hashlib.sha1(data[j:j + 16384]).digest() for j in range(0, 65536, 16384))
        with open(root + "/torrents/t%06d.torrent" % i, "wb") as f:
            f.write(benc({"info": {"name": name, "length": 65536, "piece length": 16384, "pieces": pieces}}))


class Daemon:
    def __init__(self, dll, root, tag):
        self.dll = dll
        data = root + "/data-" + tag
        shutil.rmtree(data, ignore_errors=True)
        self.p = subprocess.Popen(["dotnet", dll, "daemon", "--data-dir", data, "-o", root + "/content", "--port", "0",
                                   "--bind", "127.0.0.1", "--web-port", "0", "--no-dht", "--no-lsd"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in self.p.stdout:
            if "HTTP interface at " in line:
                self.url = line.split("HTTP interface at ")[1].split()[0]
                break
        threading.Thread(target=lambda: [None for _ in self.p.stdout], daemon=True).start()
        self.headers = {}
        self.headers = {"X-Shoal-Csrf": json.loads(self.request("api/v1/session"))["csrf_token"]}

    def request(self, path, body=None, content_type=None):
        headers = dict(self.headers)
        if content_type: headers["Content-Type"] = content_type
        with urllib.request.urlopen(urllib.request.Request(self.url + path, data=body, headers=headers), timeout=600) as r:
            return r.read()

    def cpu(self):
        fields = open("/proc/%d/stat" % self.p.pid).read().split(") ")[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def add_multipart(self, root, files):
        for i in range(0, len(files), 250):
            b = uuid.uuid4().hex
            parts = [("--%s\r\nContent-Disposition: form-data; name=\"torrents\"; filename=\"%s\"\r\n"
                      "Content-Type: application/x-bittorrent\r\n\r\n" % (b, f)).encode()
                     + open(root + "/torrents/" + f, "rb").read() + b"\r\n" for f in files[i:i + 250]]
            out = json.loads(self.request("api/v1/torrents", b"".join(parts) + ("--%s--\r\n" % b).encode(),
                                          "multipart/form-data; boundary=" + b))
            assert len(out["added"]) == len(files[i:i + 250]), out.get("failed")

    def stop(self):
        self.p.terminate()
        self.p.wait()


def add(dll, root, count, mode):
    d = Daemon(dll, root, mode)
    files = sorted(os.listdir(root + "/torrents"))[:count]
    time.sleep(3)
    c0, t0 = d.cpu(), time.time()
    if mode == "multi":
        d.add_multipart(root, files)
    elif mode == "cli":
        r = subprocess.run(["dotnet", dll, "add"] + [root + "/torrents/" + f for f in files] + ["--remote", d.url],
                           capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.count("added ") == len(files), r.stderr[-2000:]
    else:
        for f in files:
            body = json.dumps({"metainfo": base64.b64encode(open(root + "/torrents/" + f, "rb").read()).decode()}).encode()
            assert len(json.loads(d.request("api/v1/torrents", body, "application/json"))["added"]) == 1
    t1, c1 = time.time(), d.cpu()
    print("add mode=%s count=%d wall=%.2f s daemon_cpu=%.2f s (load %.1f)" % (mode, count, t1 - t0, c1 - c0, os.getloadavg()[0]))
    d.stop()


def idle(dll, root, count, settle, window):
    d = Daemon(dll, root, "idle")
    d.add_multipart(root, sorted(os.listdir(root + "/torrents"))[:count])
    while json.loads(d.request("api/v1/stats"))["seeding"] < count: time.sleep(0.5)
    time.sleep(settle)
    c0, t0, load = d.cpu(), time.time(), os.getloadavg()[0]
    time.sleep(window)
    c1, t1 = d.cpu(), time.time()
    print("idle count=%d cpu=%.2f s over %.0f s = %.2f %% of a core (load %.1f)" % (count, c1 - c0, t1 - t0, 100 * (c1 - c0) / (t1 - t0), load))
    d.stop()


if __name__ == "__main__":
    verb, args = sys.argv[1], sys.argv[2:]
    if verb == "make": make(int(args[0]), args[1])
    elif verb == "add": add(args[0], args[1], int(args[2]), args[3])
    elif verb == "idle": idle(args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
    else: sys.exit(__doc__)
