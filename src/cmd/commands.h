/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_COMMANDS_H
#define SKIFF_COMMANDS_H

#include "../cli.h"

/* One per file in src/cmd/. */
extern const struct cli_command cmd_spec;
extern const struct cli_command cmd_features;
extern const struct cli_command cmd_state;
extern const struct cli_command cmd_list;

#endif
