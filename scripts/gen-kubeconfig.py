#!/usr/bin/env python3
"""Writes a kubeconfig with N contexts of realistic size (CA ~1.1 KB and
client cert+key ~3 KB of base64 each) for the merge and list benchmarks.
With a third argument `kubefetch`, every context carries kubefetch's
provenance extension, as if kubefetch had fetched it."""
import base64
import os
import sys

n = int(sys.argv[1])
out = sys.argv[2]
provenance = len(sys.argv) > 3 and sys.argv[3] == "kubefetch"
def blob(size, seed):
    raw = (seed.encode() * (size // len(seed) + 1))[:size]
    return base64.b64encode(raw).decode()
ca = blob(820, "ca-")
with open(out, "w") as f:
    f.write("apiVersion: v1\nkind: Config\npreferences: {}\ncurrent-context: ctx-0\nclusters:\n")
    for i in range(n):
        f.write(f"- name: cluster-{i}\n  cluster:\n    server: https://10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}:6443\n"
                f"    certificate-authority-data: {ca}\n")
    f.write("contexts:\n")
    for i in range(n):
        f.write(f"- name: ctx-{i}\n  context:\n    cluster: cluster-{i}\n    user: user-{i}\n    namespace: ns-{i}\n")
        if provenance:
            f.write("    extensions:\n    - name: kubefetch\n      extension:\n"
                    f"        provider: tke\n        clusterId: cls-{i:08d}\n        region: ap-guangzhou\n"
                    f"        private: false\n        fetchedAt: \"2026-11-22T10:00:00Z\"\n"
                    f"        expiresAt: \"2026-12-{1 + i % 28:02d}T10:00:00Z\"\n")
    f.write("users:\n")
    for i in range(n):
        f.write(f"- name: user-{i}\n  user:\n    client-certificate-data: {blob(1100, f'cert{i}-')}\n"
                f"    client-key-data: {blob(1200, f'key{i}-')}\n")
os.chmod(out, 0o600)
