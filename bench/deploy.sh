#!/bin/bash
# Capture over ssh: a deploy of N store paths (1,000 by default) to a
# loopback "target" (a real OpenSSH server on 127.0.0.1 whose Nix is a
# chroot store of its own), with and without keep-paths --capture, side by
# side, REPS times each, alternating:
#   plain     nix copy --to ssh-ng://root@127.0.0.1 of every path, then
#             "ssh HOST true" (the switch)
#   capture   the same under keep-paths --capture
# Prints the medians (from start to the switch's end) and their ratio, and
# of the capture runs keep-paths' peak and current RSS and the temporary
# roots held on the target once the copy is done.  The target collects between runs, so every copy copies.
# Needs root and sshd (Debian: openssh-server).
#
#   bench/deploy.sh [N]        KEEP_PATHS=build  REPS=3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-3}
. "$here/lib.sh"
n=${1:-1000}
[ "$(id -u)" = 0 ] || { echo "needs root (sshd)" >&2; exit 1; }
sshd=$(PATH=$PATH:/usr/sbin command -v sshd) ||
    { echo "needs sshd (openssh-server)" >&2; exit 1; }
bench_setup "$n"

# The target: sshd on a free port, its nix-daemon on a chroot store.
ssh_dir=$work/ssh remote=$work/remote
mkdir -p "$ssh_dir" "$remote" /run/sshd
chmod 700 "$ssh_dir"
ssh-keygen -q -t ed25519 -N '' -f "$ssh_dir/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$ssh_dir/client_key"
cp "$ssh_dir/client_key.pub" "$ssh_dir/authorized_keys"
for i in $(seq 20); do
	port=$((20000 + RANDOM % 40000))
	cat >"$ssh_dir/sshd_config" <<-CONF
	Port $port
	ListenAddress 127.0.0.1
	HostKey $ssh_dir/host_key
	AuthorizedKeysFile $ssh_dir/authorized_keys
	PidFile $ssh_dir/sshd.pid
	StrictModes no
	UsePAM no
	UseDNS no
	PasswordAuthentication no
	PermitRootLogin prohibit-password
	SetEnv PATH=$PATH NIX_STORE_DIR=$NIX_STORE_DIR NIX_CONF_DIR=$NIX_CONF_DIR NIX_REMOTE=$remote NIX_STATE_DIR=$remote/nix/var/nix NIX_LOG_DIR=$remote/nix/var/log/nix
	CONF
	rm -f "$ssh_dir/sshd.pid"
	"$sshd" -f "$ssh_dir/sshd_config" -E "$ssh_dir/sshd.log" || continue
	for _ in $(seq 50); do [ -s "$ssh_dir/sshd.pid" ] && break; sleep 0.1; done
	[ -s "$ssh_dir/sshd.pid" ] && break
done
trap 'kill "$(cat "$ssh_dir/sshd.pid")" 2>/dev/null; private_store_stop; rm -rf "$work"' EXIT
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$ssh_dir/host_key.pub")" >"$ssh_dir/known_hosts"
export NIX_SSHOPTS="-F /dev/null -i $ssh_dir/client_key -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$ssh_dir/known_hosts -p $port"
NIX_REMOTE=$remote nix-store --version >/dev/null

# The deploy; with capture, it also notes keep-paths' RSS and the target's
# temporary roots once the copy is done.  Paths go in a file: the target's
# collector reads every process's environment.
cat >"$work/deploy" <<-EOF
#!/bin/sh
set -e
nix --extra-experimental-features nix-command copy --to ssh-ng://root@127.0.0.1 \$(cat "$work/all-paths") 2>/dev/null
ssh $NIX_SSHOPTS root@127.0.0.1 true
date +%s.%N >"$work/switched"
if [ "\${1:-}" = capture ]; then
	sleep 1		# the holding session's last replies
	awk '/^VmHWM:/ { p = \$2 } /^VmRSS:/ { r = \$2 } END { print p, r }' \
	    /proc/\$PPID/status >"$work/kp-rss"
	cat "$remote"/nix/var/nix/temproots/* 2>/dev/null | tr '\0' '\n' |
	    grep -c . >"$work/target-roots" || true
fi
EOF
chmod +x "$work/deploy"

one() {
	local t0 t1
	NIX_REMOTE=$remote nix-store --gc >/dev/null 2>&1
	t0=$(now)
	if [ "$1" = capture ]; then
		"$KEEP_PATHS" --capture -- "$work/deploy" capture
	else
		"$work/deploy"
	fi
	t1=$(cat "$work/switched")
	echo "$t1 - $t0" | bc -l
}

: >"$work/plain" ; : >"$work/capture"
for _ in $(seq "$REPS"); do
	one plain >>"$work/plain"
	one capture >>"$work/capture"
	echo "$(cat "$work/kp-rss") $(cat "$work/target-roots")" >>"$work/held"
done
plain=$(median <"$work/plain")
capture=$(median <"$work/capture")
printf '%s paths to the target   plain %.3f s   capture %.3f s   capture/plain %.2fx\n' \
    "$n" "$plain" "$capture" "$(echo "$capture / $plain" | bc -l)"
printf 'capture (of %s runs): keep-paths peak/current RSS %s/%s KiB, temporary roots on the target %s\n' \
    "$REPS" $(sort -n "$work/held" | tail -1)
