/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OCISPEC_CONFIG_TABLES_H
#define OCISPEC_CONFIG_TABLES_H

#include "json_walk.h"

/* The documents' top-level tables (config_tables.c, state.c, features.c). */
extern const struct jw_struct oci_config_desc;
extern const struct jw_struct oci_process_desc;
extern const struct jw_struct oci_resources_desc;
extern const struct jw_struct oci_state_desc;
extern const struct jw_struct oci_features_desc;

/* ociVersion must be 1.x: "unsupported version "2.0.0" (skiff supports 1.x)". */
int oci_check_version(struct jw_ctx *ctx, const void *field);

#endif
