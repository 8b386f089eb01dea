#!/usr/bin/env python3
"""Writes a kubeconfig with N contexts of realistic size (CA ~1.1 KB and
client cert+key ~3 KB of base64 each) for the merge benchmarks."""
import base64
import os
import sys

n = int(sys.argv[1])
out = sys.argv[2]
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
    f.write("users:\n")
    for i in range(n):
        f.write(f"- name: user-{i}\n  user:\n    client-certificate-data: {blob(1100, f'cert{i}-')}\n"
                f"    client-key-data: {blob(1200, f'key{i}-')}\n")
os.chmod(out, 0o600)
