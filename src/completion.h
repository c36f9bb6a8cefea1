/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_COMPLETION_H
#define SKIFF_COMPLETION_H

#include "cli.h"

/*
 * Prints the completion script for shell ("bash", "zsh" or "fish") built
 * from the commands (NULL-terminated) and the global options.
 */
int completion_print(const char *shell, const struct cli_command *const *cmds,
                     const struct cli_option *global, struct skiff_error **err);

#endif
