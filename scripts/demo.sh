#!/usr/bin/env bash
# The offline tour: starts the fake cloud on 127.0.0.1, fetches from every
# provider into a temporary kubeconfig, and shows kubectl using the result.
# Nothing here talks to a real cloud or touches ~/.kube.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --quiet --release -p kubefetch -p fakecloud
bin="$PWD/target/release"
work=$(mktemp -d)
cleanup() {
  [ -n "${cloud_pid:-}" ] && kill "$cloud_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/fakecloud" --env-file "$work/env" --oidc-token-file "$work/oidc-token" >/dev/null &
cloud_pid=$!
for _ in $(seq 100); do [ -s "$work/env" ] && break; sleep 0.05; done
[ -s "$work/env" ] || { echo "the fake cloud did not start" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/env"
export HOME="$work/home" KUBECONFIG="$work/home/.kube/config"
mkdir -p "$HOME"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$bin/kubefetch" tke cls-65r1c5nu --region ap-guangzhou
step "$bin/kubefetch" tke cls-65r1c5nu --region ap-guangzhou --private --no-switch
step "$bin/kubefetch" tke cls-a cls-b --region ap-guangzhou --output json
if "$bin/kubefetch" --help | grep -q '^  ack'; then
  step "$bin/kubefetch" ack c5b5e80b0b64a4bf6939d2d8fbbc5 --region cn-hangzhou --ttl 3h --no-switch
fi
if "$bin/kubefetch" --help | grep -q '^  cce'; then
  step "$bin/kubefetch" cce 4d5e6f70-1a2b-11ee-8c90-0255ac100001 --region cn-north-4 --no-switch
  step "$bin/kubefetch" ucs 5e6f7081-2b3c-11ee-9da1-0255ac100011 --no-switch
  step "$bin/kubefetch" ucs-agent 5e6f7081-2b3c-11ee-9da1-0255ac100012 --out "$work/proxy-agent.yaml"
  step grep -E '^(kind|  name):' "$work/proxy-agent.yaml"
fi

# No key in the kubeconfig: kubectl runs `kubefetch credential`, served from a cache.
step "$bin/kubefetch" ack c5b5e80b0b64a4bf6939d2d8fbbc5 --region cn-hangzhou --exec --context ack-exec --no-switch
step "$bin/kubefetch" credential ack c5b5e80b0b64a4bf6939d2d8fbbc5 --region cn-hangzhou --ttl 60 -v

# No long-lived key: a CI job's OIDC token exchanged at STS (once per run), and an agency.
step env -u ALIBABA_CLOUD_ACCESS_KEY_ID -u ALIBABA_CLOUD_ACCESS_KEY_SECRET \
  ALIBABA_CLOUD_ROLE_ARN="$FAKECLOUD_ALIBABA_ROLE_ARN" \
  ALIBABA_CLOUD_OIDC_PROVIDER_ARN="$FAKECLOUD_ALIBABA_OIDC_PROVIDER_ARN" \
  ALIBABA_CLOUD_OIDC_TOKEN_FILE="$work/oidc-token" \
  "$bin/kubefetch" ack c5b5e80b0b64a4bf6939d2d8fbbc5 --region cn-hangzhou --context ack-oidc --no-switch -v
step env -u HUAWEICLOUD_SDK_AK -u HUAWEICLOUD_SDK_SK \
  HUAWEICLOUD_SDK_IDP_ID="$FAKECLOUD_HUAWEI_IDP_ID" HUAWEICLOUD_SDK_ID_TOKEN_FILE="$work/oidc-token" \
  "$bin/kubefetch" cce 4d5e6f70-1a2b-11ee-8c90-0255ac100001 --region cn-north-4 --context cce-oidc --no-switch

# Discovery: every page of each provider's cluster list, then a fleet file synced in one write.
step "$bin/kubefetch" discover tke --region ap-guangzhou
step "$bin/kubefetch" discover ack --output json
cat > "$work/fleet.yaml" <<'FLEET'
apiVersion: kubefetch/v1
kind: Fleet
name: platform
defaults: {private: false}
clusters:
- {provider: tke, region: ap-guangzhou, ids: [cls-a, cls-c]}
- {provider: ack, region: cn-hangzhou, ids: [c5b5e80b0b64a4bf6939d2d8fbbc5], ttl: 3h, context: ack-prod}
- {provider: cce, region: cn-north-4, all: true, private: true}
FLEET
step cat "$work/fleet.yaml"
step "$bin/kubefetch" sync "$work/fleet.yaml" --dry-run
step "$bin/kubefetch" sync "$work/fleet.yaml"
sed -i.bak 's/ids: \[cls-a, cls-c\]/ids: [cls-a]/' "$work/fleet.yaml"
step "$bin/kubefetch" sync "$work/fleet.yaml" --prune --output json

step "$bin/kubefetch" list
step "$bin/kubefetch" refresh --expiring-within 7d --dry-run
step "$bin/kubefetch" refresh --all
step "$bin/kubefetch" remove tke-cls-b --dry-run
step "$bin/kubefetch" remove tke-cls-b
step "$bin/kubefetch" list --output json

if command -v kubectl >/dev/null 2>&1; then
  step kubectl config get-contexts
  step kubectl --context tke-cls-65r1c5nu get --raw /version
  step kubectl --context ack-exec get --raw /version
  echo
else
  echo "kubectl is not installed: skipping the kubectl part of the tour"
fi
