#!/usr/bin/env bash
# Whole-process timings against the fake cloud on 127.0.0.1:
#  1. `kubefetch tke` (one signed HTTP round trip, to stdout) beside `curl` of
#     the same endpoint in the same run: kubefetch's own overhead;
#  2. the same fetch with `tccli tke DescribeClusterKubeconfig`, installed in a
#     throwaway virtualenv (skipped when PyPI cannot be reached);
#  3. merging one cluster into kubeconfigs of 50, 500, 5,000 and 20,000 contexts,
#     beside `kubectl config set-context` on the same files: time and peak memory;
#  4. 100 clusters in one call with 100 ms of fake-cloud latency, against the
#     bound set by 8 concurrent fetches and TKE's 20 requests/s;
#  5. `kubefetch list` on kubeconfigs of 500 and 5,000 kubefetch contexts beside
#     `kubectl config get-contexts` on the same files;
#  6. `kubefetch sync` of a fleet of 1,000 clusters (every provider, `all: true`)
#     with 100 ms of fake-cloud latency, against the bound set by TKE's rate;
#  7. one fetch per provider with static keys beside the same fetch with an
#     OIDC token exchanged first (STS for tke and ack, IAM's two steps for cce);
#  8. `kubefetch credential` served from its cache (median of 5x runs) beside
#     `aws eks get-token` (offline, fake keys), and `kubectl get --raw /version`
#     through an --exec user against the same call with a static kubeconfig.
# Usage: scripts/bench-process.sh [runs] [sections]   (default 20 runs per
# measurement; sections: a comma-separated subset of fetch,merge,many,fleet,keyless,list,exec)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
sections=${2:-fetch,merge,many,fleet,keyless,list,exec}
want() { [[ ",$sections," == *",$1,"* ]]; }

cargo build --locked --quiet --release -p kubefetch -p fakecloud
bin="$PWD/target/release"
work=$(mktemp -d)
cleanup() {
  [ -n "${cloud_pid:-}" ] && kill "$cloud_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# start_cloud ARGS...: (re)starts the fake cloud with ARGS and loads its
# environment (endpoints, fake keys, FAKECLOUD_* names).
start_cloud() {
  if [ -n "${cloud_pid:-}" ]; then
    kill "$cloud_pid"
    wait "$cloud_pid" 2>/dev/null || true
  fi
  rm -f "$work/env"
  "$bin/fakecloud" --env-file "$work/env" "$@" >/dev/null 2>&1 &
  cloud_pid=$!
  for _ in $(seq 100); do [ -s "$work/env" ] && break; sleep 0.05; done
  # shellcheck disable=SC1091
  . "$work/env"
}
start_cloud --tke-clusters 100
export HOME="$work/home"
mkdir -p "$HOME"

# mean_ms RUNS PREPARE COMMAND...: mean wall time of COMMAND in ms; PREPARE
# (a shell snippet) runs before each run and is not timed.
mean_ms() {
  local n=$1 prepare=$2; shift 2
  local total=0 start end
  for _ in $(seq "$n"); do
    eval "$prepare"
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    total=$((total + end - start))
  done
  awk -v t="$total" -v n="$n" 'BEGIN { printf "%.2f", t / n / 1e6 }'
}

# median_ms RUNS COMMAND...: median wall time of COMMAND in ms, read from
# bash's own clock (no `date` process inside the measurement).
median_ms() {
  local n=$1; shift
  local start end
  for _ in $(seq "$n"); do
    start=${EPOCHREALTIME/[.,]/}
    "$@" >/dev/null 2>&1 || true
    end=${EPOCHREALTIME/[.,]/}
    echo $((end - start))
  done | sort -n | awk '{ t[NR] = $1 } END { m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.2f", m / 1e3 }'
}

# peak_kb PREPARE COMMAND...: peak resident memory of one run.
peak_kb() {
  local prepare=$1; shift
  eval "$prepare"
  /usr/bin/time -f '%M' -o "$work/peak" "$@" >/dev/null 2>&1 || true
  cat "$work/peak"
}

if want fetch; then
echo "# whole process, $runs runs each (mean ms)"
kf=$(mean_ms "$runs" : "$bin/kubefetch" tke cls-a --region ap-guangzhou --kubeconfig -)
curl_ms=$(mean_ms "$runs" : curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
  -H 'X-TC-Action: DescribeClusterKubeconfig' -d '{"ClusterId":"cls-a","IsExtranet":true}' "$KUBEFETCH_TKE_ENDPOINT")
echo "kubefetch tke (fetch + sign + normalize, to stdout): $kf ms"
echo "curl of the same endpoint (unsigned, rejected):      $curl_ms ms"
echo "kubefetch peak RSS: $(peak_kb : "$bin/kubefetch" tke cls-a --region ap-guangzhou --kubeconfig -) KB"
echo "kubefetch binary: $(stat -c %s "$bin/kubefetch") bytes"

if python3 -m venv "$work/venv" >/dev/null 2>&1 && "$work/venv/bin/pip" install -q tccli >/dev/null 2>&1; then
  tccli_ms=$(mean_ms "$(( (runs + 3) / 4 ))" : "$work/venv/bin/tccli" tke DescribeClusterKubeconfig \
    --ClusterId cls-a --IsExtranet true --region ap-guangzhou --endpoint "$KUBEFETCH_TKE_ENDPOINT" \
    --secretId "$TENCENTCLOUD_SECRET_ID" --secretKey "$TENCENTCLOUD_SECRET_KEY")
  echo "tccli tke DescribeClusterKubeconfig (same fetch):    $tccli_ms ms ($(awk -v a="$tccli_ms" -v b="$kf" 'BEGIN { printf "%.0fx", a / b }') kubefetch)"
else
  echo "tccli: could not be installed in a virtualenv; skipped"
fi
fi

if want merge; then
echo
echo "# merge one cluster into an N-context kubeconfig (mean ms, peak RSS KB)"
# The fetch alone (to stdout, no file) is timed too, so that the merge's
# own cost can be set against kubectl, which fetches nothing.
fetch_ms=$(mean_ms "$runs" : "$bin/kubefetch" tke cls-a --region ap-guangzhou --kubeconfig -)
echo "fetch alone (kubefetch tke --kubeconfig -): $fetch_ms ms"
printf '%-8s %-8s %-24s %-12s %-22s %-10s %s\n' contexts file kubefetch "peak/file" kubectl \
  "kubectl/kf" "kubectl/(kf-fetch)"
for n in 50 500 5000 20000; do
  python3 scripts/gen-kubeconfig.py "$n" "$work/base-$n.yaml"
  size_kb=$(( $(stat -c %s "$work/base-$n.yaml") / 1024 ))
  reset="cp $work/base-$n.yaml $work/k.yaml"
  r=$(( n >= 20000 ? 2 : n >= 5000 ? (runs + 3) / 4 : runs ))
  k_ms=$(mean_ms "$r" "$reset" "$bin/kubefetch" tke cls-a --region ap-guangzhou --kubeconfig "$work/k.yaml")
  k_kb=$(peak_kb "$reset" "$bin/kubefetch" tke cls-a --region ap-guangzhou --kubeconfig "$work/k.yaml")
  peak=$(awk -v a="$k_kb" -v b="$size_kb" 'BEGIN { printf "%.2fx", a / b }')
  if command -v kubectl >/dev/null 2>&1; then
    c_ms=$(mean_ms "$r" "$reset" kubectl config set-context bench --cluster=cluster-1 --user=user-1 --kubeconfig "$work/k.yaml")
    c_kb=$(peak_kb "$reset" kubectl config set-context bench --cluster=cluster-1 --user=user-1 --kubeconfig "$work/k.yaml")
    ratio=$(awk -v a="$c_ms" -v b="$k_ms" 'BEGIN { printf "%.1fx", a / b }')
    own=$(awk -v a="$c_ms" -v b="$k_ms" -v f="$fetch_ms" 'BEGIN { printf "%.1fx", a / (b - f) }')
  else
    c_ms="n/a" c_kb="n/a" ratio="(no kubectl)" own="-"
  fi
  printf '%-8s %-8s %-24s %-12s %-22s %-10s %s\n' "$n" "${size_kb}K" "$k_ms ms, $k_kb KB" "$peak" \
    "$c_ms ms, $c_kb KB" "$ratio" "$own"
done
fi

if want keyless; then
echo
echo "# one fetch to stdout: static keys against an OIDC token exchanged first ($runs runs each, mean ms)"
start_cloud --oidc-token-file "$work/oidc-token"
# Both runs go through env(1), so that only the credential source differs.
keyless_row() {
  local label=$1 unset_vars=$2 oidc_vars=$3; shift 3
  local static oidc
  # shellcheck disable=SC2086
  static=$(mean_ms "$runs" : env "$bin/kubefetch" "$@" --kubeconfig -)
  # shellcheck disable=SC2086
  oidc=$(mean_ms "$runs" : env $unset_vars $oidc_vars "$bin/kubefetch" "$@" --kubeconfig -)
  printf '%-5s static keys %8s ms   OIDC %8s ms   (+%s ms)\n' "$label" "$static" "$oidc" \
    "$(awk -v a="$oidc" -v b="$static" 'BEGIN { printf "%.2f", a - b }')"
}
keyless_row tke "-u TENCENTCLOUD_SECRET_ID -u TENCENTCLOUD_SECRET_KEY" \
  "TKE_ROLE_ARN=$FAKECLOUD_TENCENT_ROLE_ARN TKE_PROVIDER_ID=$FAKECLOUD_TENCENT_PROVIDER_ID TKE_WEB_IDENTITY_TOKEN_FILE=$work/oidc-token" \
  tke "${FAKECLOUD_TKE_CLUSTERS%% *}"
keyless_row ack "-u ALIBABA_CLOUD_ACCESS_KEY_ID -u ALIBABA_CLOUD_ACCESS_KEY_SECRET" \
  "ALIBABA_CLOUD_ROLE_ARN=$FAKECLOUD_ALIBABA_ROLE_ARN ALIBABA_CLOUD_OIDC_PROVIDER_ARN=$FAKECLOUD_ALIBABA_OIDC_PROVIDER_ARN ALIBABA_CLOUD_OIDC_TOKEN_FILE=$work/oidc-token" \
  ack "${FAKECLOUD_ACK_CLUSTERS%% *}"
keyless_row cce "-u HUAWEICLOUD_SDK_AK -u HUAWEICLOUD_SDK_SK" \
  "HUAWEICLOUD_SDK_IDP_ID=$FAKECLOUD_HUAWEI_IDP_ID HUAWEICLOUD_SDK_ID_TOKEN_FILE=$work/oidc-token" \
  cce "${FAKECLOUD_CCE_CLUSTERS%% *}"
fi

if want list; then
echo
echo "# list an N-context kubeconfig, every context written by kubefetch (mean ms, peak RSS KB)"
printf '%-8s %-22s %-22s %-22s %s\n' contexts "kubefetch list" "kubefetch list --all" "kubectl get-contexts" "kubectl/kubefetch list"
for n in 500 5000; do
  python3 scripts/gen-kubeconfig.py "$n" "$work/list-$n.yaml" kubefetch
  r=$(( n >= 5000 ? (runs + 1) / 2 : runs ))
  l_ms=$(mean_ms "$r" : "$bin/kubefetch" list --kubeconfig "$work/list-$n.yaml")
  l_kb=$(peak_kb : "$bin/kubefetch" list --kubeconfig "$work/list-$n.yaml")
  a_ms=$(mean_ms "$r" : "$bin/kubefetch" list --all --kubeconfig "$work/list-$n.yaml")
  a_kb=$(peak_kb : "$bin/kubefetch" list --all --kubeconfig "$work/list-$n.yaml")
  if command -v kubectl >/dev/null 2>&1; then
    c_ms=$(mean_ms "$r" : kubectl config get-contexts --kubeconfig "$work/list-$n.yaml")
    c_kb=$(peak_kb : kubectl config get-contexts --kubeconfig "$work/list-$n.yaml")
    ratio=$(awk -v a="$c_ms" -v b="$l_ms" 'BEGIN { printf "%.1fx", a / b }')
  else
    c_ms="n/a" c_kb="n/a" ratio="(no kubectl)"
  fi
  printf '%-8s %-22s %-22s %-22s %s\n' "$n" "$l_ms ms, $l_kb KB" "$a_ms ms, $a_kb KB" "$c_ms ms, $c_kb KB" "$ratio"
done
fi

if want exec; then
echo
echo "# exec credentials: kubefetch credential from its cache, kubectl through an --exec user (median ms)"
ack=c5b5e80b0b64a4bf6939d2d8fbbc5
"$bin/kubefetch" ack "$ack" --exec --kubeconfig "$work/exec.yaml" -q
"$bin/kubefetch" ack "$ack" --ttl 60 --kubeconfig "$work/static.yaml" -q
cred_ms=$(median_ms "$((runs * 5))" "$bin/kubefetch" credential ack "$ack" --region "$ALIBABA_CLOUD_REGION_ID" --ttl 60)
echo "kubefetch credential ack (cache hit, whole process): $cred_ms ms"
if command -v aws >/dev/null 2>&1; then
  aws_ms=$(median_ms "$(( (runs + 1) / 2 ))" env AWS_ACCESS_KEY_ID=AKIAFAKE AWS_SECRET_ACCESS_KEY=fake \
    AWS_DEFAULT_REGION=us-east-1 aws eks get-token --cluster-name x)
  echo "aws eks get-token (no cache, offline):               $aws_ms ms ($(awk -v a="$aws_ms" -v b="$cred_ms" 'BEGIN { printf "%.0fx", a / b }') kubefetch credential)"
else
  echo "aws eks get-token: aws is not installed; skipped"
fi
if command -v kubectl >/dev/null 2>&1; then
  exec_ms=$(median_ms "$runs" kubectl --kubeconfig "$work/exec.yaml" get --raw /version)
  static_ms=$(median_ms "$runs" kubectl --kubeconfig "$work/static.yaml" get --raw /version)
  echo "kubectl get --raw /version, exec user:   $exec_ms ms"
  echo "kubectl get --raw /version, static key:  $static_ms ms ($(awk -v a="$exec_ms" -v b="$static_ms" 'BEGIN { printf "%.2fx", a / b }') for exec)"
else
  echo "kubectl: not installed; skipped"
fi
fi

if want many; then
echo
echo "# 100 clusters in one call, 100 ms latency per answer"
start_cloud --tke-clusters 100 --latency-ms 100
ids=$(seq -f 'cls-bench-%g' 0 99)
# shellcheck disable=SC2086
many_ms=$(mean_ms 3 : "$bin/kubefetch" tke $ids --region ap-guangzhou --kubeconfig -)
# 100 requests spaced 50 ms apart (20/s) start over 4.95 s, the last answers 100 ms later;
# 8 at once alone would allow ceil(100/8) * 100 ms = 1.3 s.
echo "kubefetch tke <100 ids>: $many_ms ms; bound 5050 ms ($(awk -v a="$many_ms" 'BEGIN { printf "%.2fx", a / 5050 }') of the bound)"
fi

if want fleet; then
echo
echo "# sync a fleet of 1,000 clusters, 100 ms latency per answer (one run each)"
# 248 more of each provider beside the fixtures: 252 TKE, 249 ACK, 250 CCE, 250 UCS.
start_cloud --fleet-clusters 248 --latency-ms 100
cat >"$work/fleet.yaml" <<'FLEET'
apiVersion: kubefetch/v1
kind: Fleet
name: bench
clusters:
- {provider: tke, all: true}
- {provider: ack, all: true}
- {provider: cce, all: true}
- {provider: ucs, all: true}
FLEET
# TKE's 255 requests (3 list pages, 252 fetches) at 20/s: 12.75 s; the other 750
# fetches at --concurrency 16 alone need about 4.7 s.
bound_ms=12750
rm -f "$work/fleet-k.yaml"
for run in "into a new file" "again, the contexts there"; do
  /usr/bin/time -f '%e %M' -o "$work/fleet-time" "$bin/kubefetch" sync "$work/fleet.yaml" \
    --kubeconfig "$work/fleet-k.yaml" -q >/dev/null 2>&1 || true
  # time(1) puts "Command exited with non-zero status N" first when sync fails.
  read -r secs kb < <(tail -n 1 "$work/fleet-time")
  contexts=$(grep -c '^  context:' "$work/fleet-k.yaml" || true)
  echo "$run: $(awk -v s="$secs" 'BEGIN { printf "%.2f", s }') s, bound $((bound_ms / 1000)).$((bound_ms % 1000 / 10)) s ($(awk -v s="$secs" -v b="$bound_ms" 'BEGIN { printf "%.2fx", s * 1000 / b }')), peak RSS $((kb / 1024)) MB, $contexts contexts"
done
fi
