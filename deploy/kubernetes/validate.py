#!/usr/bin/env python3
"""Validate deploy/kubernetes offline (no cluster): run by `cargo test --test deploy_kubernetes`.

    deploy/kubernetes/validate.py [--dir DIR] [--cutover PATH/TO/cutover]

1. generated/*.yaml are up to date (render.py --check; only for the repo's own dir);
2. every manifest is valid against Kubernetes' own schemas (`kubernetes-validate
   --strict`, from PyPI, schemas shipped in the package); the PrometheusRule (a CRD,
   no schema there) has its rules checked by `promtool check rules`;
3. the pieces agree with each other and with the rendered routes.toml: probe and
   scrape ports are the admin port, the flags volume is flags_dir, every secret env
   var the config names is set, terminationGracePeriodSeconds covers preStop +
   grace_period_seconds + graceful_shutdown_timeout_seconds, >= 2 replicas, the
   PodDisruptionBudget and the Service select the pods, no subPath on config
   volumes (the kubelet would never update them);
4. with --cutover: the ConfigMaps, written out as the kubelet would, pass `cutover check`.
Exit 1 with one line per problem, naming the file and the fix.
"""
import argparse
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib

import yaml

HERE = pathlib.Path(__file__).resolve().parent
problems = []


def problem(file, msg):
    problems.append(f"{file}: {msg}")


def load(d, name):
    return yaml.safe_load((d / name).read_text())


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


def secret_env_names(routes):
    auth = routes.get("auth", {})
    names = [auth.get("identity_key_env")]
    names += auth.get("session", {}).get("secret_envs", [])
    for issuer in auth.get("chatbot", []):
        names.append(issuer.get("hs256_secret_env"))
    names += routes.get("override", {}).get("keys_env", [])
    return {n for n in names if n}


def check_schemas(d, manifests):
    exe = shutil.which("kubernetes-validate")
    if not exe:
        problem("validate.py", "kubernetes-validate not found: pip install -r deploy/kubernetes/requirements.txt")
        return
    run = subprocess.run([exe, "--strict", *map(str, manifests)], capture_output=True, text=True)
    if run.returncode != 0:
        problem("kubernetes-validate", (run.stdout + run.stderr).strip())


def check_rules(rule):
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump(rule["spec"], f)
    run = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True, text=True)
    if run.returncode != 0:
        problem("generated/prometheusrule.yaml", "promtool check rules: " + (run.stdout + run.stderr).strip())


def check_consistency(d, deploy, svc, pdb, routes_cm, flags_cm):
    routes_text = routes_cm["data"]["routes.toml"]
    routes = tomllib.loads(routes_text)
    server = routes["server"]
    admin_port, http_port = port_of(server["admin_listen"]), port_of(server["listen"])
    spec = deploy["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    (c,) = [c for c in pod["containers"] if c["name"] == "cutover"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    if ports.get("admin") != admin_port:
        problem("deployment.yaml", f"containerPort `admin` is {ports.get('admin')}, routes.toml admin_listen says {admin_port}")
    if ports.get("http") != http_port:
        problem("deployment.yaml", f"containerPort `http` is {ports.get('http')}, routes.toml listen says {http_port}")
    if server["admin_listen"].startswith("127.") or server["admin_listen"].startswith("[::1]"):
        problem("generated/configmap-routes.yaml", "admin_listen is loopback: the kubelet's probes cannot reach it (render.py sets 0.0.0.0)")
    for probe, path in (("readinessProbe", "/-/ready"), ("livenessProbe", "/-/health")):
        got = c.get(probe, {}).get("httpGet", {})
        if got.get("path") != path or got.get("port") not in ("admin", admin_port):
            problem("deployment.yaml", f"{probe} must be httpGet {path} on the admin port, is {got}")
    ann = spec["template"]["metadata"].get("annotations", {})
    if ann.get("prometheus.io/scrape") != "true" or int(ann.get("prometheus.io/port", 0)) != admin_port:
        problem("deployment.yaml", f"prometheus.io/scrape must be \"true\" and prometheus.io/port {admin_port} (the admin port)")
    if spec.get("replicas", 1) < 2:
        problem("deployment.yaml", "replicas must be >= 2 (a drain or rollout would leave no replica)")
    pre_stop = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    need = pre_stop + server.get("grace_period_seconds", 10) + server.get("graceful_shutdown_timeout_seconds", 5)
    if pod.get("terminationGracePeriodSeconds", 30) < need:
        problem("deployment.yaml", f"terminationGracePeriodSeconds {pod.get('terminationGracePeriodSeconds', 30)} < preStop {pre_stop} + grace_period_seconds + graceful_shutdown_timeout_seconds = {need}: the kubelet would SIGKILL requests still draining")
    env = {e["name"] for e in c.get("env", [])}
    for name in sorted(secret_env_names(routes) - env):
        problem("deployment.yaml", f"env {name} is named by routes.toml but not set: add it from the cutover-secrets Secret")
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for m in mounts.values():
        if "subPath" in m and "configMap" in volumes.get(m["name"], {}):
            problem("deployment.yaml", f"volumeMount {m['name']} uses subPath: the kubelet never updates it, so flag edits would not reach cutover")
    flags_mount = [m for n, m in mounts.items() if volumes.get(n, {}).get("configMap", {}).get("name") == flags_cm["metadata"]["name"]]
    if not flags_mount or flags_mount[0]["mountPath"] != server.get("flags_dir"):
        problem("deployment.yaml", f"the cutover-flags volume must be mounted at flags_dir {server.get('flags_dir')}")
    config_arg = c.get("args", [])[c.get("args", []).index("--config") + 1] if "--config" in c.get("args", []) else None
    routes_mount = [m for n, m in mounts.items() if volumes.get(n, {}).get("configMap", {}).get("name") == routes_cm["metadata"]["name"]]
    if not routes_mount or config_arg != routes_mount[0]["mountPath"].rstrip("/") + "/routes.toml":
        problem("deployment.yaml", f"--config {config_arg} is not routes.toml inside the cutover-routes volume")
    for f, sel in (("service.yaml", svc["spec"]["selector"]), ("pdb.yaml", pdb["spec"]["selector"]["matchLabels"])):
        if any(labels.get(k) != v for k, v in sel.items()):
            problem(f, f"selector {sel} does not select the Deployment's pods {labels}")
    if pdb["spec"].get("minAvailable", 0) < 1 or pdb["spec"]["minAvailable"] >= spec.get("replicas", 1):
        problem("pdb.yaml", "minAvailable must be >= 1 and below replicas (else node drains block forever)")
    if c.get("securityContext", {}).get("readOnlyRootFilesystem") and not any(
        m["mountPath"] == str(pathlib.PurePath(server.get("upgrade_sock", "/tmp/x")).parent) for m in mounts.values()
    ):
        problem("deployment.yaml", "read-only root filesystem but upgrade_sock's directory is not a writable volume")
    return routes_text


def check_with_cutover(cutover, routes_text, flags_cm):
    with tempfile.TemporaryDirectory() as t:
        t = pathlib.Path(t)
        (t / "flags").mkdir()
        for name, text in flags_cm["data"].items():
            (t / "flags" / name).write_text(text)
        text = re.sub(r'^flags_dir = .*$', f'flags_dir = "{t / "flags"}"', routes_text, count=1, flags=re.M)
        (t / "routes.toml").write_text(text)
        run = subprocess.run([cutover, "check", "--config", str(t / "routes.toml")], capture_output=True, text=True)
        if run.returncode != 0:
            problem("generated/configmap-*.yaml", "cutover check: " + (run.stdout + run.stderr).strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=pathlib.Path, default=HERE)
    ap.add_argument("--cutover")
    args = ap.parse_args()
    d = args.dir
    if d.resolve() == HERE:
        stale = subprocess.run([sys.executable, str(HERE / "render.py"), "--check"], capture_output=True, text=True)
        if stale.returncode != 0:
            problem("generated/", stale.stderr.strip())
    manifests = sorted(d.glob("*.yaml")) + sorted((d / "generated").glob("*.yaml"))
    check_schemas(d, [m for m in manifests if m.name != "prometheusrule.yaml"])
    rule = load(d / "generated", "prometheusrule.yaml")
    check_rules(rule)
    routes_cm = load(d / "generated", "configmap-routes.yaml")
    flags_cm = load(d / "generated", "configmap-flags.yaml")
    routes_text = check_consistency(d, load(d, "deployment.yaml"), load(d, "service.yaml"), load(d, "pdb.yaml"), routes_cm, flags_cm)
    if args.cutover:
        check_with_cutover(args.cutover, routes_text, flags_cm)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"{d}: ok ({len(manifests)} manifests)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
