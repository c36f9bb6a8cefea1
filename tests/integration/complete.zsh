#!/usr/bin/zsh -f
# complete.zsh DIR REQUEST...: what zsh's completion system offers for each
# REQUEST (a command line typed up to the cursor), with the completion
# functions in DIR first on fpath.  Prints "== REQUEST" and then one
# candidate a line.  ZLE needs a terminal, so an interactive zsh runs in a
# zpty; a wrapped compadd prints every match it is given after matching, and
# a comppostfuncs hook marks the end of each completion.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=; fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
# -O/-A/-D calls only collect matches for a caller; they are not offered yet.
zpty -w z 'compadd() { if [[ " $* " == *" -"[OAD]" "* ]]; then builtin compadd "$@"; return; fi;' \
	'local -a m; builtin compadd -O m "$@"; (( $#m )) && print -rl -- "MA""TCH:"${^m};' \
	'builtin compadd "$@"; }'
zpty -w z '__done() { print -r -- "END""OFLIST" }'
zpty -w z 'bindkey "^I" complete-word'
for request in "${@[2,-1]}"; do
	print -r -- "== $request"
	# zsh empties comppostfuncs after each completion
	zpty -w z 'comppostfuncs=(__done)'
	zpty -w -n z "$request"$'\t'
	while zpty -r z line; do
		line=${line//[$'\r\n']/}
		[[ $line == *ENDOFLIST* ]] && break
		[[ $line == *MATCH:* ]] && print -r -- ${line#*MATCH:}
	done
	zpty -w -n z $'\C-u'
done
zpty -d z
