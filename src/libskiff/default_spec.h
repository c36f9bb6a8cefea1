/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_DEFAULT_SPEC_H
#define SKIFF_DEFAULT_SPEC_H

#include <stdbool.h>
#include "error.h"

/* The config.json `skiff spec` writes (runc's defaults; --rootless adds a user namespace). */
char *default_spec_json(bool rootless, struct skiff_error **err);

#endif
