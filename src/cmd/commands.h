/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_COMMANDS_H
#define SKIFF_COMMANDS_H

#include "../cli.h"

/* One per file in src/cmd/. */
extern const struct cli_command cmd_check;
extern const struct cli_command cmd_checkpoint;
extern const struct cli_command cmd_create;
extern const struct cli_command cmd_delete;
extern const struct cli_command cmd_events;
extern const struct cli_command cmd_exec;
extern const struct cli_command cmd_features;
extern const struct cli_command cmd_kill;
extern const struct cli_command cmd_list;
extern const struct cli_command cmd_pause;
extern const struct cli_command cmd_ps;
extern const struct cli_command cmd_restore;
extern const struct cli_command cmd_resume;
extern const struct cli_command cmd_run;
extern const struct cli_command cmd_spec;
extern const struct cli_command cmd_start;
extern const struct cli_command cmd_state;
extern const struct cli_command cmd_update;

#endif
