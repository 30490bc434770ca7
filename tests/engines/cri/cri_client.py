#!/usr/bin/python3
"""A small CRI (runtime.v1) client doing for one pod what the kubelet does, each step checked.

Run by cri_test.sh against a private containerd with the CRI plugin; the stubs api_pb2 and
api_pb2_grpc are generated from proto/api.proto into a dir on PYTHONPATH. Prints one
"ok   NAME" or "FAIL NAME" line per check (as tests/engines/lib.sh does) and exits 1 if any
check failed, 2 if a call raised and the run could not go on.
"""

import argparse
import json
import os
import sys
import time

import grpc

import api_pb2 as pb
import api_pb2_grpc as pb_grpc

CALL_TIMEOUT = 30  # seconds, per RPC
FAILS = 0


def say(line):
    print(line, flush=True)


def check(name, cond, want=None, got=None):
    global FAILS
    if cond:
        say("ok   " + name)
    else:
        FAILS += 1
        say("FAIL " + name)
        if want is not None or got is not None:
            say("     want [%s]" % (want,))
            say("     got  [%s]" % (got,))
    return cond


def eq(name, want, got):
    return check(name, want == got, want, got)


def call(what, fn, req, timeout=CALL_TIMEOUT):
    """Runs one RPC. A gRPC error is printed and gives None, which the checks that use the
    answer count as failures (so the number of checks does not depend on what failed)."""
    try:
        return fn(req, timeout=timeout)
    except grpc.RpcError as e:
        say("     %s failed: %s: %s" % (what, e.code().name, e.details()))
        return None


def host_ns(pid, kind):
    try:
        return os.readlink("/proc/%d/ns/%s" % (pid, kind))
    except OSError as e:
        return "error: %s" % e


def cgroup_of(pid):
    """{controller: path} of a host pid; cgroup2's entry is under ''."""
    out = {}
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in ctrls.split(","):
                out[c] = path
    return out


def read_host(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError as e:
        return "error: %s" % e


def cgroup_limits(pid):
    """(cpu weight value, memory limit) as the host's cgroup files say, plus the file names."""
    cg = cgroup_of(pid)
    if "memory" in cg and os.path.isdir("/sys/fs/cgroup/memory"):
        cpu = "/sys/fs/cgroup/cpu%s/cpu.shares" % cg.get("cpu", "?")
        mem = "/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % cg["memory"]
    else:
        cpu = "/sys/fs/cgroup%s/cpu.weight" % cg.get("", "?")
        mem = "/sys/fs/cgroup%s/memory.max" % cg.get("", "?")
    return read_host(cpu), read_host(mem), cpu, mem


def shares_as_host_value(shares):
    """What the cgroup file holds for CPU shares: the value itself on v1, a weight on v2."""
    if os.path.isdir("/sys/fs/cgroup/memory"):
        return str(shares)
    return str(1 + ((shares - 2) * 9999) // 262142)  # runc's conversion


class Pod:
    def __init__(self, args):
        self.a = args
        ch = grpc.insecure_channel("unix://" + args.socket)
        grpc.channel_ready_future(ch).result(timeout=10)
        self.rt = pb_grpc.RuntimeServiceStub(ch)
        self.img = pb_grpc.ImageServiceStub(ch)
        self.pod_id = None
        self.pod_cfg = None

    # ---- helpers
    def info(self, resp):
        try:
            return json.loads(resp.info.get("info", "{}"))
        except ValueError:
            return {}

    def ctr_status(self, cid, verbose=False):
        r = call("ContainerStatus " + cid[:12], self.rt.ContainerStatus,
                 pb.ContainerStatusRequest(container_id=cid, verbose=verbose))
        return r

    def wait_state(self, cid, state, secs=10):
        deadline = time.time() + secs
        while True:
            r = self.ctr_status(cid)
            if r is None or r.status.state == state or time.time() > deadline:
                return r
            time.sleep(0.1)

    def exec_sync(self, cid, cmd, timeout=10):
        return call("ExecSync %s %s" % (cid[:12], cmd), self.rt.ExecSync,
                    pb.ExecSyncRequest(container_id=cid, cmd=cmd, timeout=timeout),
                    timeout=timeout + CALL_TIMEOUT)

    def container(self, name, command, cpu_shares=0, memory=0):
        ns = pb.NamespaceOption(network=pb.POD, ipc=pb.POD, pid=pb.CONTAINER)
        cfg = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name, attempt=0),
            image=pb.ImageSpec(image=self.a.image),
            command=command,
            log_path=name + ".log",
            linux=pb.LinuxContainerConfig(
                resources=pb.LinuxContainerResources(cpu_shares=cpu_shares,
                                                     memory_limit_in_bytes=memory),
                security_context=pb.LinuxContainerSecurityContext(namespace_options=ns)))
        r = call("CreateContainer " + name, self.rt.CreateContainer,
                 pb.CreateContainerRequest(pod_sandbox_id=self.pod_id, config=cfg,
                                           sandbox_config=self.pod_cfg))
        if not check("CreateContainer " + name, r is not None):
            raise SystemExit(2)
        check("CreateContainer %s: an id" % name, len(r.container_id) == 64, "64 hex", r.container_id)
        s = self.ctr_status(r.container_id)
        eq("ContainerStatus %s: CREATED" % name, "CONTAINER_CREATED",
           pb.ContainerState.Name(s.status.state) if s else None)
        if not check("StartContainer " + name, call("StartContainer " + name, self.rt.StartContainer,
                     pb.StartContainerRequest(container_id=r.container_id)) is not None):
            raise SystemExit(2)
        return r.container_id

    def log_of(self, name, want, secs=5):
        """The container's CRI log file (lines 'TIME STREAM F TEXT'), once it holds `want`."""
        path = os.path.join(self.a.logs, name + ".log")
        deadline = time.time() + secs
        text = ""
        while time.time() < deadline:
            try:
                with open(path) as f:
                    text = f.read()
            except OSError:
                text = ""
            if want in text:
                break
            time.sleep(0.1)
        return [ln.split(" ", 3)[3] for ln in text.splitlines() if ln.count(" ") >= 3]

    # ---- the pod's life
    def run(self):
        a = self.a
        v = call("Version", self.rt.Version, pb.VersionRequest(version="v1"))
        if not check("Version", v is not None):
            raise SystemExit(2)
        say("# CRI: runtime %s %s, CRI API %s (Version.version %s)" %
            (v.runtime_name, v.runtime_version, v.runtime_api_version, v.version))
        eq("Version: runtime_name", "containerd", v.runtime_name)
        eq("Version: runtime_api_version", "v1", v.runtime_api_version)

        st = call("Status", self.rt.Status, pb.StatusRequest(verbose=True))
        conds = {c.type: c.status for c in st.status.conditions} if st else {}
        eq("Status: RuntimeReady", True, conds.get("RuntimeReady"))
        eq("Status: NetworkReady (the loopback CNI config is loaded)", True, conds.get("NetworkReady"))
        cfg = json.loads(st.info.get("config", "{}")) if st else {}
        dirs = [cfg.get("containerdRootDir", ""), cfg.get("containerdEndpoint", ""),
                cfg.get("rootDir", ""), cfg.get("stateDir", "")]
        check("Status: the CRI plugin's root/state dirs are under $W",
              all(d.startswith(a.work + "/") for d in dirs), a.work + "/...", dirs)

        # The sandbox image was imported with ctr; the CRI image store learns of it by event.
        deadline = time.time() + 10
        while True:
            im = call("ImageStatus", self.img.ImageStatus,
                      pb.ImageStatusRequest(image=pb.ImageSpec(image=a.image)))
            if im is None or im.image.id or time.time() > deadline:
                break
            time.sleep(0.1)
        check("ImageStatus: the imported image is known to the CRI plugin",
              im is not None and im.image.id.startswith("sha256:"), "sha256:...",
              im.image.id if im else None)

        # ---- RunPodSandbox
        uid = "husk-e2e-%d" % os.getpid()
        self.pod_cfg = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name="husk-pod", uid=uid, namespace="husk-e2e", attempt=0),
            hostname="husk-pod",
            log_directory=a.logs,
            linux=pb.LinuxPodSandboxConfig(
                cgroup_parent="%s/%s" % (a.cgroup_parent, uid),
                security_context=pb.LinuxSandboxSecurityContext(
                    namespace_options=pb.NamespaceOption(network=pb.POD, ipc=pb.POD, pid=pb.CONTAINER))))
        t0 = time.time()
        r = call("RunPodSandbox", self.rt.RunPodSandbox,
                 pb.RunPodSandboxRequest(config=self.pod_cfg, runtime_handler=a.handler))
        if not check("RunPodSandbox (handler %s)" % a.handler, r is not None):
            raise SystemExit(2)
        self.pod_id = r.pod_sandbox_id
        say("# RunPodSandbox took %.0f ms" % ((time.time() - t0) * 1000))
        say("# pod sandbox %s" % self.pod_id)
        ps = call("PodSandboxStatus", self.rt.PodSandboxStatus,
                  pb.PodSandboxStatusRequest(pod_sandbox_id=self.pod_id, verbose=True))
        if not check("PodSandboxStatus", ps is not None):
            raise SystemExit(2)
        eq("PodSandboxStatus: SANDBOX_READY", "SANDBOX_READY", pb.PodSandboxState.Name(ps.status.state))
        eq("PodSandboxStatus: the pod IP is the loopback one", "127.0.0.1", ps.status.network.ip)
        inf = self.info(ps)
        eq("sandbox runs with the requested handler", a.handler, inf.get("runtimeHandler"))
        eq("sandbox runtime type", "io.containerd.runc.v2", inf.get("runtimeType"))
        eq("sandbox runtime BinaryName", a.runtime, (inf.get("runtimeOptions") or {}).get("binary_name"))
        spid = int(inf.get("pid", 0))
        check("sandbox: a pause pid", spid > 0, ">0", spid)
        check("sandbox: the runtime holds its state in " + a.runtime_root,
              os.path.isdir(os.path.join(a.runtime_root, self.pod_id)), "a dir", os.listdir(a.runtime_root)
              if os.path.isdir(a.runtime_root) else "no root")
        scg = cgroup_of(spid)
        want_cg = "%s/%s/%s" % (a.cgroup_parent, uid, self.pod_id)
        eq("sandbox cgroup is <cgroup_parent>/<id>", want_cg, scg.get("memory", scg.get("")))
        spec_ns = [n.get("path", "") for n in (inf.get("runtimeSpec") or {}).get("linux", {}).get("namespaces", [])
                   if n.get("type") == "network"]
        check("sandbox netns is mounted under $W (netns_mounts_under_state_dir)",
              len(spec_ns) == 1 and spec_ns[0].startswith(a.work + "/"), a.work + "/.../netns/cni-*", spec_ns)

        # ---- two long-lived containers sharing the pod's net, ipc and uts namespaces
        show_ns = "echo net=$(readlink /proc/self/ns/net) ipc=$(readlink /proc/self/ns/ipc) host=$(hostname);"
        ca = self.container("graceful", ["sh", "-c", show_ns + ' trap "echo got-term; exit 0" TERM; sleep 300 & wait'],
                            cpu_shares=256, memory=64 << 20)
        cb = self.container("stubborn", ["sh", "-c", show_ns + " exec sleep 300"])
        for name, cid in (("graceful", ca), ("stubborn", cb)):
            s = self.wait_state(cid, pb.CONTAINER_RUNNING)
            eq("ContainerStatus %s: RUNNING" % name, "CONTAINER_RUNNING",
               pb.ContainerState.Name(s.status.state) if s else None)
        sa = self.ctr_status(ca, verbose=True)
        sb = self.ctr_status(cb, verbose=True)
        pa, pbid = int(self.info(sa).get("pid", 0)), int(self.info(sb).get("pid", 0))
        check("containers: init pids", pa > 0 and pbid > 0, ">0", (pa, pbid))
        eq("container runtime BinaryName", a.runtime,
           (self.info(sa).get("runtimeOptions") or {}).get("binary_name"))
        for kind in ("net", "ipc", "uts"):
            eq("host view: both containers in the sandbox's %s namespace" % kind,
               [host_ns(spid, kind)] * 2, [host_ns(pa, kind), host_ns(pbid, kind)])
        check("host view: the pod's netns is not the host's", host_ns(spid, "net") != host_ns(1, "net"),
              "!= " + host_ns(1, "net"), host_ns(spid, "net"))
        eq("host view: each container has its own pid namespace",
           3, len({host_ns(spid, "pid"), host_ns(pa, "pid"), host_ns(pbid, "pid")}))
        want_line = "net=%s ipc=%s host=husk-pod" % (host_ns(spid, "net"), host_ns(spid, "ipc"))
        for name in ("graceful", "stubborn"):
            lines = self.log_of(name, "host=")
            eq("container %s's log (CRI log file): namespaces and hostname" % name, [want_line], lines)
        eq("container cgroup is <cgroup_parent>/<id>", "%s/%s/%s" % (a.cgroup_parent, uid, ca),
           cgroup_of(pa).get("memory", cgroup_of(pa).get("")))

        # ---- ExecSync: stdout, stderr, exit code; and the namespaces from inside
        r = self.exec_sync(ca, ["sh", "-c", "echo out; echo err >&2; exit 3"])
        eq("ExecSync: stdout", b"out\n", r.stdout if r else None)
        eq("ExecSync: stderr", b"err\n", r.stderr if r else None)
        eq("ExecSync: exit code", 3, r.exit_code if r else None)
        views = []
        for cid in (ca, cb):
            r = self.exec_sync(cid, ["sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/ipc"])
            views.append(r.stdout.decode().split() if r is not None else None)
        want = [host_ns(spid, "net"), host_ns(spid, "ipc")]
        eq("ExecSync: both containers see the sandbox's net and ipc namespaces", [want, want], views)

        # ---- resources: what CreateContainer asked for, then UpdateContainerResources
        cpu, mem, cpu_f, mem_f = cgroup_limits(pa)
        eq("cgroup files hold the created limits (%s, %s)" % (os.path.basename(cpu_f), os.path.basename(mem_f)),
           [shares_as_host_value(256), str(64 << 20)], [cpu, mem])
        u = call("UpdateContainerResources", self.rt.UpdateContainerResources,
                 pb.UpdateContainerResourcesRequest(
                     container_id=ca,
                     linux=pb.LinuxContainerResources(cpu_shares=512, memory_limit_in_bytes=128 << 20)))
        check("UpdateContainerResources", u is not None)
        cpu, mem, _, _ = cgroup_limits(pa)
        eq("cgroup files hold the updated limits", [shares_as_host_value(512), str(128 << 20)], [cpu, mem])
        inside = ("/sys/fs/cgroup/memory/memory.limit_in_bytes" if os.path.isdir("/sys/fs/cgroup/memory")
                  else "/sys/fs/cgroup/memory.max")
        r = self.exec_sync(ca, ["cat", inside])
        eq("ExecSync: the container's own /sys/fs/cgroup shows the new memory limit",
           str(128 << 20), r.stdout.decode().strip() if r is not None else None)
        s = self.ctr_status(ca)
        res = s.status.resources.linux if s else None
        eq("ContainerStatus reports the updated resources", [512, 128 << 20],
           [res.cpu_shares, res.memory_limit_in_bytes] if res else None)

        # ---- ContainerStats
        st = call("ContainerStats", self.rt.ContainerStats, pb.ContainerStatsRequest(container_id=ca))
        c = st.stats if st else pb.ContainerStats()
        eq("ContainerStats: for this container", ca, c.attributes.id)
        check("ContainerStats: cpu usage_core_nano_seconds > 0", c.cpu.usage_core_nano_seconds.value > 0,
              ">0", c.cpu.usage_core_nano_seconds.value)
        check("ContainerStats: memory working_set_bytes > 0", c.memory.working_set_bytes.value > 0,
              ">0", c.memory.working_set_bytes.value)
        ls = call("ListContainerStats", self.rt.ListContainerStats,
                  pb.ListContainerStatsRequest(filter=pb.ContainerStatsFilter(pod_sandbox_id=self.pod_id)))
        eq("ListContainerStats: both containers", sorted([ca, cb]),
           sorted(s.attributes.id for s in ls.stats) if ls else None)

        # ---- a container that exits by itself
        cc = self.container("exits", ["sh", "-c", "exit 7"])
        s = self.wait_state(cc, pb.CONTAINER_EXITED)
        eq("ContainerStatus exits: EXITED, exit code 7", ["CONTAINER_EXITED", 7],
           [pb.ContainerState.Name(s.status.state), s.status.exit_code] if s else None)

        # ---- StopContainer: graceful (TERM trapped, exits 0 at once), forced (TERM ignored)
        t0 = time.time()
        check("StopContainer graceful (timeout 10 s)",
              call("StopContainer graceful", self.rt.StopContainer,
                   pb.StopContainerRequest(container_id=ca, timeout=10)) is not None)
        dt = time.time() - t0
        check("StopContainer graceful: done well before the timeout", dt < 5, "< 5 s", "%.2f s" % dt)
        s = self.ctr_status(ca)
        eq("ContainerStatus graceful: EXITED, exit code 0", ["CONTAINER_EXITED", 0],
           [pb.ContainerState.Name(s.status.state), s.status.exit_code] if s else None)
        eq("container graceful's log: the TERM trap ran", "got-term", (self.log_of("graceful", "got-term") or [""])[-1])
        t0 = time.time()
        check("StopContainer stubborn (timeout 2 s)",
              call("StopContainer stubborn", self.rt.StopContainer,
                   pb.StopContainerRequest(container_id=cb, timeout=2)) is not None)
        dt = time.time() - t0
        check("StopContainer stubborn: SIGKILL after the 2 s timeout", 2 <= dt < 10, "2..10 s", "%.2f s" % dt)
        s = self.ctr_status(cb)
        eq("ContainerStatus stubborn: EXITED, exit code 137", ["CONTAINER_EXITED", 137],
           [pb.ContainerState.Name(s.status.state), s.status.exit_code] if s else None)

        # ---- RemoveContainer
        for name, cid in (("graceful", ca), ("stubborn", cb), ("exits", cc)):
            check("RemoveContainer " + name, call("RemoveContainer " + name, self.rt.RemoveContainer,
                                                  pb.RemoveContainerRequest(container_id=cid)) is not None)
        lc = call("ListContainers", self.rt.ListContainers, pb.ListContainersRequest())
        eq("ListContainers: none left", [], [c.id for c in lc.containers] if lc else None)

        # ---- one container still running when the pod stops: StopPodSandbox must kill it
        cd = self.container("leftover", ["sleep", "300"])
        s = self.wait_state(cd, pb.CONTAINER_RUNNING)
        eq("ContainerStatus leftover: RUNNING", "CONTAINER_RUNNING", pb.ContainerState.Name(s.status.state) if s else None)
        t0 = time.time()
        check("StopPodSandbox", call("StopPodSandbox", self.rt.StopPodSandbox,
                                     pb.StopPodSandboxRequest(pod_sandbox_id=self.pod_id)) is not None)
        say("# StopPodSandbox took %.0f ms" % ((time.time() - t0) * 1000))
        s = self.ctr_status(cd)
        eq("StopPodSandbox: the running container is EXITED (137)", ["CONTAINER_EXITED", 137],
           [pb.ContainerState.Name(s.status.state), s.status.exit_code] if s else None)
        ps = call("PodSandboxStatus", self.rt.PodSandboxStatus, pb.PodSandboxStatusRequest(pod_sandbox_id=self.pod_id))
        eq("PodSandboxStatus: SANDBOX_NOTREADY", "SANDBOX_NOTREADY",
           pb.PodSandboxState.Name(ps.status.state) if ps else None)
        check("StopPodSandbox again (idempotent)", call("StopPodSandbox again", self.rt.StopPodSandbox,
                                                        pb.StopPodSandboxRequest(pod_sandbox_id=self.pod_id)) is not None)
        check("RemovePodSandbox", call("RemovePodSandbox", self.rt.RemovePodSandbox,
                                       pb.RemovePodSandboxRequest(pod_sandbox_id=self.pod_id)) is not None)
        lp = call("ListPodSandbox", self.rt.ListPodSandbox, pb.ListPodSandboxRequest())
        eq("ListPodSandbox: none left", [], [p.id for p in lp.items] if lp else None)
        lc = call("ListContainers", self.rt.ListContainers, pb.ListContainersRequest())
        eq("ListContainers: none left (RemovePodSandbox removed leftover)", [], [c.id for c in lc.containers] if lc else None)
        check("the runtime forgot the sandbox (%s)" % a.runtime_root,
              not os.path.exists(os.path.join(a.runtime_root, self.pod_id)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--handler", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--runtime", required=True)
    p.add_argument("--runtime-root", default="/run/containerd/runc/k8s.io")
    p.add_argument("--cgroup-parent", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--logs", required=True)
    args = p.parse_args()
    try:
        Pod(args).run()
    except SystemExit as e:
        say("# stopped early (exit %s)" % e.code)
        return 2
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
