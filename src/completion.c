/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `skiff __completion bash|zsh|fish`: shell completion scripts written from
 * the very tables the parser reads (the global options and each command's
 * options), so a new option is completed the day it is parsed.  Hidden from
 * --help: the build runs it to install the scripts (mk/completion.am).
 *
 * Every shell completes the commands, each command's options (long and
 * short), files after an option that takes a value, and container ids (from
 * `skiff list -q`, with the --root already typed) where the usage names an ID.
 */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"
#include "libskiff/utils.h"

static bool takes_id(const struct cli_command *c)
{
	return strstr(c->usage, "ID") != NULL;
}

/* ---- bash ---- */

/* The option words of a table: all of them, or only those that take a value. */
static void bash_words(const struct cli_option *o, bool with_value_only)
{
	for (; o && o->name; o++) {
		if (with_value_only && !o->has_arg)
			continue;
		printf(" --%s", o->name);
		if (o->short_name)
			printf(" -%c", o->short_name);
	}
}

static void bash_script(const struct cli_command *const *cmds, const struct cli_option *global)
{
	printf("# bash completion for skiff, written by `skiff __completion bash` from its "
	       "option tables\n\n"
	       "_skiff_ids()\n{\n"
	       "\tlocal ids\n"
	       "\tids=$(\"$1\" ${2:+--root \"$2\"} list -q 2>/dev/null)\n"
	       "\tCOMPREPLY+=($(compgen -W \"$ids\" -- \"$3\"))\n}\n\n"
	       "_skiff()\n{\n"
	       "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	       "\tlocal cmd= root= w i opts valued ids=\n"
	       "\tlocal gvalued=\"");
	bash_words(global, true);
	printf(" \"\n"
	       "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	       "\t\tw=${COMP_WORDS[i]}\n"
	       "\t\tcase $w in\n"
	       "\t\t--root) root=${COMP_WORDS[i+1]} ;;\n"
	       "\t\t--root=*) root=${w#--root=} ;;\n"
	       "\t\tesac\n"
	       "\t\tif [[ $gvalued == *\" $w \"* ]]; then ((i++)); continue; fi\n"
	       "\t\t[[ $w == -* ]] && continue\n"
	       "\t\tcmd=$w\n\t\tbreak\n"
	       "\tdone\n"
	       "\tif [[ -z $cmd ]]; then\n"
	       "\t\tif [[ $gvalued == *\" $prev \"* ]]; then\n"
	       "\t\t\tcompopt -o filenames 2>/dev/null\n"
	       "\t\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	       "\t\telif [[ $cur == -* ]]; then\n"
	       "\t\t\tCOMPREPLY=($(compgen -W \"");
	bash_words(global, false);
	printf("\" -- \"$cur\"))\n\t\telse\n\t\t\tCOMPREPLY=($(compgen -W \"");
	for (size_t i = 0; cmds[i]; i++)
		printf("%s%s", i ? " " : "", cmds[i]->name);
	printf("\" -- \"$cur\"))\n\t\tfi\n\t\treturn\n\tfi\n\tcase $cmd in\n");
	for (size_t i = 0; cmds[i]; i++) {
		printf("\t%s)\n\t\topts=\"", cmds[i]->name);
		bash_words(cmds[i]->options, false);
		printf("\"\n\t\tvalued=\"");
		bash_words(cmds[i]->options, true);
		printf(" \"\n%s\t\t;;\n", takes_id(cmds[i]) ? "\t\tids=1\n" : "");
	}
	printf("\t*) return ;;\n\tesac\n"
	       "\tif [[ $valued == *\" $prev \"* ]]; then\n"
	       "\t\tcompopt -o filenames 2>/dev/null\n"
	       "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	       "\telif [[ $cur == -* ]]; then\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	       "\telif [[ -n $ids ]]; then\n"
	       "\t\t_skiff_ids \"${COMP_WORDS[0]}\" \"$root\" \"$cur\"\n"
	       "\tfi\n}\n\n"
	       "complete -F _skiff skiff\n");
}

/* ---- zsh ---- */

/* Text inside '...' and inside an _arguments [description]. */
static void zsh_quoted(const char *s)
{
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else if (*s == '[' || *s == ']' || *s == ':' || *s == '\\')
			printf("\\%c", *s);
		else
			putchar(*s);
	}
}

static void zsh_option_specs(const struct cli_option *o, const char *indent)
{
	for (; o && o->name; o++) {
		const char *value = o->has_arg ? ":value:_files" : "";
		printf("%s'", indent);
		if (o->short_name)
			printf("(-%c --%s)'{-%c,--%s%s}'", o->short_name, o->name, o->short_name,
			       o->name, o->has_arg ? "=" : "");
		else
			printf("--%s%s", o->name, o->has_arg ? "=" : "");
		printf("[");
		zsh_quoted(cli_option_help(o));
		printf("]%s' \\\n", value);
	}
}

static void zsh_script(const struct cli_command *const *cmds, const struct cli_option *global)
{
	printf("#compdef skiff\n"
	       "# zsh completion for skiff, written by `skiff __completion zsh` from its option "
	       "tables\n\n"
	       "_skiff_ids()\n{\n"
	       "\tlocal -a ids root\n"
	       "\tlocal i=${skiff_words[(I)--root]} r=${skiff_words[(r)--root=*]}\n"
	       "\t(( i > 0 && i < $#skiff_words )) && root=(--root \"${skiff_words[i+1]}\")\n"
	       "\t[[ -n $r ]] && root=($r)\n"
	       "\tids=(${(f)\"$(${skiff_words[1]} $root list -q 2>/dev/null)\"})\n"
	       "\tcompadd -a ids\n}\n\n"
	       "_skiff()\n{\n"
	       "\tlocal curcontext=$curcontext state line\n"
	       "\tlocal -a skiff_words=($words) # _skiff_ids needs the words before the command\n"
	       "\tlocal -a commands\n"
	       "\tcommands=(\n");
	for (size_t i = 0; cmds[i]; i++) {
		printf("\t\t'%s:", cmds[i]->name);
		zsh_quoted(cmds[i]->summary);
		printf("'\n");
	}
	printf("\t)\n\t_arguments -C \\\n");
	zsh_option_specs(global, "\t\t");
	printf("\t\t'1:command:->command' \\\n\t\t'*::argument:->argument' && return\n"
	       "\tcase $state in\n"
	       "\tcommand) _describe -t commands command commands ;;\n"
	       "\targument)\n\t\tcase $words[1] in\n");
	for (size_t i = 0; cmds[i]; i++) {
		printf("\t\t%s)\n\t\t\t_arguments \\\n", cmds[i]->name);
		zsh_option_specs(cmds[i]->options, "\t\t\t\t");
		printf("\t\t\t\t'*:%s' ;;\n",
		       takes_id(cmds[i]) ? "container:_skiff_ids" : "argument: ");
	}
	printf("\t\tesac ;;\n\tesac\n}\n\n_skiff \"$@\"\n");
}

/* ---- fish ---- */

static void fish_quoted(const char *s)
{
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('\'');
}

static void fish_options(const struct cli_option *o, const char *condition)
{
	for (; o && o->name; o++) {
		printf("complete -c skiff -n %s -l %s", condition, o->name);
		if (o->short_name)
			printf(" -s %c", o->short_name);
		printf(" %s -d ", o->has_arg ? "-r -F" : "");
		fish_quoted(cli_option_help(o));
		putchar('\n');
	}
}

static void fish_script(const struct cli_command *const *cmds, const struct cli_option *global)
{
	printf("# fish completion for skiff, written by `skiff __completion fish` from its "
	       "option tables\n\n"
	       "function __skiff_ids\n"
	       "\tset -l tokens (commandline -opc)\n"
	       "\tset -l root\n"
	       "\tif set -l i (contains -i -- --root $tokens)\n"
	       "\t\tset root --root $tokens[(math $i + 1)]\n"
	       "\tend\n"
	       "\tcommand -q $tokens[1]; and $tokens[1] $root list -q 2>/dev/null\n"
	       "end\n\n"
	       "complete -c skiff -f\n");
	fish_options(global, "__fish_use_subcommand");
	for (size_t i = 0; cmds[i]; i++) {
		printf("complete -c skiff -n __fish_use_subcommand -a %s -d ", cmds[i]->name);
		fish_quoted(cmds[i]->summary);
		putchar('\n');
	}
	for (size_t i = 0; cmds[i]; i++) {
		char *cond = xasprintf("'__fish_seen_subcommand_from %s'", cmds[i]->name);
		fish_options(cmds[i]->options, cond);
		if (takes_id(cmds[i]))
			printf("complete -c skiff -n %s -a '(__skiff_ids)'\n", cond);
		free(cond);
	}
}

int completion_print(const char *shell, const struct cli_command *const *cmds,
                     const struct cli_option *global, struct skiff_error **err)
{
	if (shell && strcmp(shell, "bash") == 0)
		bash_script(cmds, global);
	else if (shell && strcmp(shell, "zsh") == 0)
		zsh_script(cmds, global);
	else if (shell && strcmp(shell, "fish") == 0)
		fish_script(cmds, global);
	else
		return error_msg(err, "__completion: expected bash, zsh or fish, got `%s`",
		                 shell ? shell : "");
	return 0;
}
