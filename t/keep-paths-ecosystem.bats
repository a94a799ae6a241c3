#!/usr/bin/env bats
# What makes keep-paths feel native: the configuration page, shell
# completions, the sweeper's systemd units, and the Nix expressions.

load helpers

setup_file() {
	kp_store_setup
}

# The options a program's --help lists, long and short.
help_options() {
	"$1" --help | grep -oE -- '(^| )--?[a-zA-Z][a-z-]*' | tr -d ' ' | sort -u
}

@test "keep-paths.conf(5) documents exactly the keys the programs take, and its examples parse" {
	page="$KP_SRCDIR/doc/keep-paths.conf.5"
	run -0 sed -n 's/^\.It Cm \([a-z-]*\) No = .*/\1/p' "$page"
	assert_output "store
connect-timeout
reconnect
store-timeout
quiet
capture-max
min-age"
	# Each example block is a working file for both programs.
	awk '/^\.Bd -literal/ { n++; on = 1; next } /^\.Ed/ { on = 0 }
	    on { print > (dir "/example" n) }' dir="$BATS_TEST_TMPDIR" "$page"
	for f in "$BATS_TEST_TMPDIR"/example*; do
		run -0 "$KEEP_PATHS" --config "$f" --print-store
		mkdir -p "$BATS_TEST_TMPDIR/root"
		run -0 "$KEEP_PATHS_SWEEP" --config "$f" --dry-run "$BATS_TEST_TMPDIR/root"
	done
	run -0 "$KEEP_PATHS" --config "$BATS_TEST_TMPDIR/example1" --print-store
	assert_output "daemon $KP_SOCKET (--store daemon)"
	# And a key it does not document is refused.
	printf 'colour = yes\n' >"$BATS_TEST_TMPDIR/bad"
	run -64 --separate-stderr "$KEEP_PATHS" --config "$BATS_TEST_TMPDIR/bad" --print-store
	assert_equal "$stderr" "keep-paths: $BATS_TEST_TMPDIR/bad:1: unknown key 'colour'"
}

@test "bash completion: options, store kinds, and a command after --" {
	[ -r /usr/share/bash-completion/bash_completion ] ||
	    skip "bash-completion is not installed"
	# Outside a real completion, compopt complains on stderr: ignored.
	run -0 --separate-stderr bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$1/contrib/completions/bash/keep-paths"
		complete_words() {
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			COMPREPLY=()
			"$(complete -p "$1" | sed "s/.*-F \([^ ]*\) .*/\1/")" \
			    "$1" "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
			printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
			echo
		}
		complete_words keep-paths --st
		complete_words keep-paths --store ss
		complete_words keep-paths-sweep --d
		complete_words keep-paths --store daemon -- nix-st
	' _ "$KP_SRCDIR"
	assert_line --index 0 "--store --store-timeout "
	assert_line --index 1 "ssh-ng:// "
	assert_line --index 2 "--dry-run "
	[[ ${lines[3]} == *nix-store* ]]
}

@test "every option in --help is in the bash, zsh and fish completions" {
	for prog in keep-paths keep-paths-sweep; do
		bin=$KEEP_PATHS
		[ "$prog" = keep-paths ] || bin=$KEEP_PATHS_SWEEP
		for opt in $(help_options "$bin"); do
			grep -qe "$opt\b" "$KP_SRCDIR/contrib/completions/bash/keep-paths" ||
			    fail "bash completion lacks $prog $opt"
			grep -qe "${opt#-}\b" "$KP_SRCDIR/contrib/completions/zsh/_keep-paths" ||
			    fail "zsh completion lacks $prog $opt"
			if [[ $opt == --* ]]; then
				grep -qe "-l ${opt#--}\b" "$KP_SRCDIR/contrib/completions/fish/$prog.fish"
			else
				grep -qe "-s ${opt#-}\b" "$KP_SRCDIR/contrib/completions/fish/$prog.fish"
			fi || fail "fish completion lacks $prog $opt"
		done
	done
	run -0 bash -n "$KP_SRCDIR/contrib/completions/bash/keep-paths"
	if command -v zsh >/dev/null; then
		run -0 zsh -n "$KP_SRCDIR/contrib/completions/zsh/_keep-paths"
	fi
	if command -v fish >/dev/null; then
		for f in "$KP_SRCDIR"/contrib/completions/fish/*.fish; do
			run -0 fish --no-execute "$f"
		done
	fi
}

@test "the options that take a value agree: --help, with-kept-paths, and the completions" {
	want=$("$KEEP_PATHS" --help | grep -oE -- '--[a-z-]+ [A-Z]+' | cut -d' ' -f1 | sort -u)
	# scripts/keep-paths.sh: its one list.
	run -0 bash -c '. "$1/scripts/keep-paths.sh"; printf "%s\n" $KP_VALUE_OPTIONS | sort' _ "$KP_SRCDIR"
	assert_output "$want"
	# bash: the "case $prev" labels of _keep_paths.
	run -0 bash -c "sed -n '/^_keep_paths()/,/esac/p' '$KP_SRCDIR/contrib/completions/bash/keep-paths' |
	    grep -oE -- '^\s*--[a-z-]+( \| --[a-z-]+)*\)' | grep -oE -- '--[a-z-]+' | sort -u"
	assert_output "$want"
	# zsh: --opt=[...] in the keep-paths case.
	run -0 bash -c "sed -n '/^keep-paths)/,/;;/p' '$KP_SRCDIR/contrib/completions/zsh/_keep-paths' |
	    grep -oE -- \"'(\\*)?--[a-z-]+=\\[\" | grep -oE -- '--[a-z-]+' | sort -u"
	assert_output "$want"
	# fish: -r or -x, an option with an argument.
	run -0 bash -c "grep -E -- ' -l [a-z-]+ -[rx]' '$KP_SRCDIR/contrib/completions/fish/keep-paths.fish' |
	    grep -oE -- '-l [a-z-]+' | sed 's/^-l /--/' | sort -u"
	assert_output "$want"
}

@test "the sweeper's systemd units pass systemd-analyze verify, and are hardened" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	d="$BATS_TEST_TMPDIR/units"
	mkdir -p "$d"
	sed "s|@bindir@|${KEEP_PATHS_SWEEP%/*}|g" \
	    "$KP_SRCDIR/contrib/systemd/keep-paths-sweep.service.in" \
	    >"$d/keep-paths-sweep.service"
	cp "$KP_SRCDIR/contrib/systemd/keep-paths-sweep.timer" "$d/"
	run -0 systemd-analyze verify --man=no "$d/keep-paths-sweep.service" \
	    "$d/keep-paths-sweep.timer"
	assert_output ""
	for key in ProtectSystem=strict ReadWritePaths=/nix/var/nix/gcroots/per-user \
	    NoNewPrivileges=yes PrivateNetwork=yes; do
		grep -qx "$key" "$d/keep-paths-sweep.service" || fail "no $key"
	done
	# systemd's own exposure score: "OK" or better (lower is safer).
	run -0 systemd-analyze security --offline=yes --threshold=20 \
	    "$d/keep-paths-sweep.service"
	assert_line --partial "Overall exposure level for keep-paths-sweep.service: 1."
}

@test "the Nix expressions parse and evaluate without nixpkgs, at configure's version" {
	for f in contrib/nix/default.nix contrib/nix/module.nix flake.nix; do
		run -0 nix-instantiate --parse "$KP_SRCDIR/$f"
	done
	# nix_eval ATTR: one attribute of t/nix-eval.nix, as Nix prints it.
	nix_eval() {
		nix-instantiate --eval --strict -E "(import $KP_SRCDIR/t/nix-eval.nix {
		    src = $KP_SRCDIR; }).$1"
	}
	assert_equal "$(nix_eval pname) $(nix_eval version)" \
	    "$("$KEEP_PATHS" --version | sed 's/\([^ ]*\) \(.*\)/"\1" "\2"/')"
	assert_equal "$(nix_eval buildInputs)" '[ "libbsd" "inih" "sqlite" ]'
	assert_equal "$(nix_eval doCheck)" true
	assert_equal "$(nix_eval optionNames)" '[ "enable" "interval" "minAge" "package" ]'
	assert_equal "$(nix_eval timer)" '"hourly"'
	run -0 nix_eval script
	assert_output --partial "exec PKG/bin/keep-paths-sweep --min-age '10m'"
	assert_equal "$(nix_eval hardening)" '{ NoNewPrivileges = true; ProtectSystem = "strict"; ReadWritePaths = [ "/nix/var/nix/gcroots/per-user" ]; }'
	assert_equal "$(nix_eval flakePackage)" '"PKG-x86_64-linux"'
	assert_equal "$(nix_eval flakeCheck)" '"PKG-aarch64-linux"'
	assert_equal "$(nix_eval flakeModule)" '[ "default" "keep-paths-sweep" ]'
}

@test "make check runs every test file" {
	local f tests
	# The TESTS = ... block, one name per line.
	tests=$(sed -n '/^TESTS = /,/[^\\]$/p' "$KP_SRCDIR/Makefile.am" |
	    tr -d '\\\t ' | grep .)
	for f in "$KP_SRCDIR"/t/*.bats; do
		grep -qx "t/${f##*/}" <<<"$tests" ||
		    fail "t/${f##*/} is not in TESTS in Makefile.am"
	done
}
