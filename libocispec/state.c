/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.json: the spec's container state, as `skiff state` prints it. */
#include <config.h>

#include "config_tables.h"
#include "runtime_spec.h"

#define JW_T struct oci_state
static const struct jw_field state_fields[] = {
    JW_F("ociVersion", JW_STRING, oci_version, .flags = JW_REQUIRED),
    JW_F("id", JW_STRING, id, .flags = JW_REQUIRED),
    JW_F("status", JW_STRING, status, .flags = JW_REQUIRED),
    JW_OPT("pid", JW_INT32, pid),
    JW_F("bundle", JW_STRING, bundle, .flags = JW_REQUIRED),
    JW_F("annotations", JW_STRING_MAP, annotations),
};
#undef JW_T
const struct jw_struct oci_state_desc = {
    .fields = state_fields, .nfields = JW_COUNT(state_fields), .size = sizeof(struct oci_state)};

struct oci_state *oci_state_parse_data(const char *data, size_t len, const char *name, char **err)
{
	return jw_parse_document(&oci_state_desc, data, len, name, err);
}

char *oci_state_generate(const struct oci_state *s, char **err)
{
	return jw_generate_document(&oci_state_desc, s, "state", err);
}

void oci_state_free(struct oci_state *s)
{
	jw_free_document(&oci_state_desc, s);
}
