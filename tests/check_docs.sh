#!/bin/sh
# SPDX-License-Identifier: MIT
# check_docs.sh - the manual page and the shell completions say what
# `memhook --help` says. The oracle is each command's own --help output,
# read independently of the documents it is compared with: the man page
# as man(1) renders it (every option of every command, and every value an
# option's help lists), the completions as bash runs them.
set -u
. "$(dirname "$0")/tap.sh"

T_MAN=$T_BUILD/memhook.1

# The man page test reads $T_MAN as built; the rest reads the files as installed.
T_STAGE=$T_TMP/stage
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$T_SRC" O="$T_BUILD" \
	install DESTDIR="$T_STAGE" PREFIX=/usr >/dev/null || echo "# make install failed"

# The commands `memhook --help` lists.
help_commands() {
	"$T_MEMHOOK" --help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }'
}

# "CMD OPTION" for every option `memhook CMD --help` lists (CMD "memhook":
# `memhook --help` itself), and "CMD @record" when it takes record's.
help_options() {
	for cmd in memhook $(help_commands); do
		if [ "$cmd" = memhook ]; then
			"$T_MEMHOOK" --help
		else
			"$T_MEMHOOK" "$cmd" --help
		fi | awk -v cmd="$cmd" '
		/options of memhook record/ { print cmd, "@record" }
		/^ +-/ {
			sub(/^ +/, ""); sub(/  .*/, "")	# the first column
			while (match($0, /(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*/)) {
				opt = substr($0, RSTART, RLENGTH); sub(/^[ ,]/, "", opt)
				print cmd, opt
				$0 = substr($0, RSTART + RLENGTH)
			}
		}'
	done
}

# "CMD OPTION VALUE" for every value of an "a|b|c" list in an option's help.
help_values() {
	for cmd in $(help_commands); do
		"$T_MEMHOOK" "$cmd" --help | awk -v cmd="$cmd" '
		function flush(    words, n, i, vals, m, j) {
			if (opt == "") return
			n = split(text, words, /[ ,():]+/)
			for (i = 1; i <= n; i++) {
				if (words[i] !~ /^[a-z]+(\|[a-z]+)+$/) continue
				m = split(words[i], vals, "|")
				for (j = 1; j <= m; j++) print cmd, opt, vals[j]
			}
			opt = ""
		}
		/^ +-/ {
			flush(); text = $0
			if ($1 ~ /,$/) sub(/^ +-[^ ]* /, "", text)	# "-o, --output": the long name
			sub(/^ +/, "", text); opt = text; sub(/[= ].*/, "", opt)
			sub(/^[^= ]*[= ]/, "", text); next
		}
		/^           +[^ -]/ { text = text " " $0; next }
		{ flush() }
		END { flush() }'
	done
}

# The man page as a reader sees it: ASCII, wide, no hyphenation.
man_text() {
	LC_ALL=C MANWIDTH=200 MANROFFOPT=-rHY=0 man -l "$T_MAN"
}

# "CMD OPTION" for every option the man page lists under a command (CMD
# "memhook": the OPTIONS section), "CMD @record" when it takes record's.
man_options() {
	man_text | awk '
	/^[A-Z]/ { sec = $0; sub_ = ""; next }
	sec == "COMMANDS" && /^   [^ ]/ { sub_ = $1; next }
	{ key = sec == "OPTIONS" ? "memhook" : sec == "COMMANDS" ? sub_ : "" }
	# The phrase may be broken across two lines.
	key != "" && (prev " " $0) ~ /every +option +of +record/ { print key, "@record" }
	{ prev = $0 }
	key != "" && /^       -/ {
		line = $0
		while (match(line, /(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*/)) {
			opt = substr(line, RSTART, RLENGTH); sub(/^[ ,]*/, "", opt)
			print key, opt
			line = substr(line, RSTART + RLENGTH)
		}
	}'
}

# "OPTION WORD" for every word of every option's paragraph in the man page.
man_words() {
	man_text | awk '
	/^       -/ { n = split($0, w, /[ ,]+/); opt = w[n > 2 && w[3] ~ /^--/ ? 3 : 2]; sub(/=.*/, "", opt) }
	/^       [^ -]/ || /^[^ ]/ || /^   [^ ]/ { opt = "" }
	opt != "" { n = split($0, w, /[^a-z]+/); for (i = 1; i <= n; i++) if (w[i] != "") print opt, w[i] }'
}

# Sorted "CMD OPTION" lines with "CMD @record" replaced by record's options.
expand_record() {
	awk '{ lines[NR] = $0; if ($1 == "record") rec[$2] = 1 }
	END {
		for (i = 1; i <= NR; i++) {
			split(lines[i], f, " ")
			if (f[2] != "@record") { print lines[i]; continue }
			for (o in rec) print f[1], o
		}
	}' | sort -u
}

man_lists_every_option() {
	[ -s "$T_MAN" ] || t_fail "no man page at $T_MAN" || return 1
	help_options | expand_record > help.opts
	man_options | expand_record > man.opts
	[ "$(wc -l < help.opts)" -gt 40 ] || t_fail "too few options read from --help:" "$(cat help.opts)" ||
		return 1
	diff help.opts man.opts || t_fail "options in --help (-) and in the man page (+) differ" ||
		return 1
	help_commands | sort > help.cmds
	man_text | awk '/^[A-Z]/ { sec = $0 } sec == "COMMANDS" && /^   [^ ]/ { print $1 }' | sort > man.cmds
	diff help.cmds man.cmds || t_fail "commands in --help (-) and in the man page (+) differ"
}

man_names_every_value() {
	help_values | sort -u > help.values
	man_words | sort -u > man.words
	[ "$(wc -l < help.values)" -gt 15 ] || t_fail "too few values read from --help:" "$(cat help.values)" ||
		return 1
	missing=$(awk 'NR == FNR { have[$1 " " $2] = 1; next } !(($2 " " $3) in have)' man.words help.values)
	[ -z "$missing" ] || t_fail "values --help lists that the man page does not name:" "$missing"
}

man_renders_installed() {
	page=$T_STAGE/usr/share/man/man1/memhook.1
	[ -f "$page" ] || t_fail "no man page installed at $page" || return 1
	out=$(LC_ALL=C MANWIDTH=80 man -l "$page" 2>&1) || t_fail "man -l failed: $out" || return 1
	case $out in
	*"memhook - which call stack owns"*"EXIT STATUS"*"EXAMPLES"*) ;;
	*) t_fail "man -l does not show the page: $out" ;;
	esac
}

T_BASH_COMP=$T_STAGE/usr/share/bash-completion/completions/memhook
T_ZSH_DIR=$T_STAGE/usr/share/zsh/site-functions

# bash_complete WORD...: what the installed bash completion offers for the
# command line WORD... (the last word is the one being completed), one a line.
bash_complete() {
	bash -c '. "$0" && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && _memhook &&
		printf "%s\n" "${COMPREPLY[@]}"' "$T_BASH_COMP" "$@" | sort -u
}

bash_completion_loads() {
	out=$(bash -c '. "$0" && complete -p memhook' "$T_BASH_COMP" 2>&1) ||
		t_fail "sourcing $T_BASH_COMP failed: $out" || return 1
	[ "$out" = "complete -F _memhook memhook" ] || t_fail "unexpected: $out"
}

# Commands, every command's options and every listed option value, as --help has them.
bash_completion_offers_help_lists() {
	help_commands | sort > want
	bash_complete memhook "" > got
	diff want got || t_fail "commands: --help (-) and completion (+) differ" || return 1
	help_options | expand_record > help.opts
	for cmd in memhook $(help_commands); do
		awk -v c="$cmd" '$1 == c { print $2 }' help.opts | sort > want
		if [ "$cmd" = memhook ]; then
			bash_complete memhook -
		else
			bash_complete memhook "$cmd" -
		fi > got
		diff want got || t_fail "options of $cmd: --help (-) and completion (+) differ" ||
			return 1
	done
	help_values | sort -u > help.values
	[ "$(wc -l < help.values)" -gt 15 ] || t_fail "too few values read from --help" || return 1
	awk '{ print $1, $2 }' help.values | sort -u > pairs
	while read -r cmd opt; do
		awk -v c="$cmd" -v o="$opt" '$1 == c && $2 == o { print $3 }' help.values | sort > want
		bash_complete memhook "$cmd" "$opt" "" > got
		diff want got || t_fail "values of $cmd $opt: --help (-) and completion (+) differ" ||
			return 1
	done < pairs
	# "--kernel=" reaches the completion split at '=' (COMP_WORDBREAKS).
	bash_complete memhook run --kernel = "" | tr '\n' ' ' > got
	[ "$(cat got)" = "auto off on " ] || t_fail "--kernel= offers: $(cat got)"
}

# zsh_screen KEYS: what an interactive zsh with the installed completion
# shows after KEYS and a Tab, in a tmux pane of 200 x 50 (the screen once
# it shows more than the command line, or after 10 s).
zsh_screen() {
	tm="tmux -L memhook-docs-$$"
	mkdir -p zdot
	cat > zdot/.zshrc <<-RC
	PS1='%# '
	fpath=('$T_ZSH_DIR' \$fpath)
	path=('$T_BUILD' \$path)
	autoload -U compinit && compinit -u -D
	LISTMAX=0
	RC
	$tm new-session -d -x 200 -y 50 "env ZDOTDIR='$T_TMP/zdot' zsh -i"
	for i in $(seq 50); do
		$tm capture-pane -p | grep -q '^[#%]' && break
		sleep 0.2
	done
	$tm send-keys "$1" Tab
	for i in $(seq 50); do
		[ "$($tm capture-pane -p | grep -c .)" -gt 1 ] && break
		sleep 0.2
	done
	$tm capture-pane -p
	$tm kill-server
}

# Every word in file $1 is a word of file $2.
words_shown() {
	tr ' ' '\n' < "$2" | sort -u > shown.words
	missing=$(sort -u "$1" | comm -23 - shown.words)
	[ -z "$missing" ] || t_fail "not offered:" $missing
}

zsh_completion_offers_help_lists() {
	help_commands > want
	zsh_screen 'memhook ' > screen
	words_shown want screen || { cat screen; return 1; }
	help_values | awk '$1 == "report" && $2 == "--format" { print $3 }' > want
	[ -s want ] || t_fail "no --format values in memhook report --help" || return 1
	zsh_screen 'memhook report --format ' > screen
	words_shown want screen || { cat screen; return 1; }
	help_options | expand_record | awk '$1 == "record" { print $2 }' > want
	zsh_screen 'memhook record -' > screen
	words_shown want screen || { cat screen; return 1; }
}


if ! command -v man >/dev/null; then
	t_skip man_lists_every_option "man is not installed (scripts/install-deps.sh: man-db)"
	t_skip man_names_every_value "man is not installed (scripts/install-deps.sh: man-db)"
	t_skip man_renders_installed "man is not installed (scripts/install-deps.sh: man-db)"
else
	t_run man_lists_every_option man_lists_every_option
	t_run man_names_every_value man_names_every_value
	t_run man_renders_installed man_renders_installed
fi
t_run bash_completion_loads bash_completion_loads
t_run bash_completion_offers_help_lists bash_completion_offers_help_lists
if ! command -v zsh >/dev/null || ! command -v tmux >/dev/null; then
	t_skip zsh_completion_offers_help_lists "zsh or tmux is not installed (scripts/install-deps.sh)"
else
	t_run zsh_completion_offers_help_lists zsh_completion_offers_help_lists
fi
t_done
