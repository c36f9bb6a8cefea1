/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The public config.json entry points: thin wrappers over the walker. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "config_tables.h"
#include "runtime_spec.h"

struct oci_config *oci_config_parse_data(const char *data, size_t len, const char *name, char **err)
{
	return jw_parse_document(&oci_config_desc, data, len, name, err);
}

struct oci_config *oci_config_parse_file(const char *path, const char *name, char **err)
{
	struct oci_config *c;
	size_t len = 0;
	char *data;

	if (name == NULL)
		name = path;
	data = jw_read_file(path, name, &len, err);
	if (data == NULL)
		return NULL;
	c = oci_config_parse_data(data, len, name, err);
	free(data);
	return c;
}

struct oci_process *oci_process_parse_data(const char *data, size_t len, const char *name,
                                           char **err)
{
	return jw_parse_document(&oci_process_desc, data, len, name, err);
}

struct oci_resources *oci_resources_parse_data(const char *data, size_t len, const char *name,
                                               char **err)
{
	return jw_parse_document(&oci_resources_desc, data, len, name, err);
}

char *oci_config_generate(const struct oci_config *c, char **err)
{
	return jw_generate_document(&oci_config_desc, c, "config.json", err);
}

char *oci_process_generate(const struct oci_process *p, char **err)
{
	return jw_generate_document(&oci_process_desc, p, "process", err);
}

char *oci_resources_generate(const struct oci_resources *r, char **err)
{
	return jw_generate_document(&oci_resources_desc, r, "resources", err);
}

void oci_config_free(struct oci_config *c)
{
	jw_free_document(&oci_config_desc, c);
}

void oci_process_free(struct oci_process *p)
{
	jw_free_document(&oci_process_desc, p);
}

void oci_resources_free(struct oci_resources *r)
{
	jw_free_document(&oci_resources_desc, r);
}

bool oci_config_equal(const struct oci_config *a, const struct oci_config *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return jw_equal(&oci_config_desc, a, b);
}

const char *oci_map_get(const struct oci_map *m, const char *key)
{
	size_t i;

	if (m == NULL || m->keys == NULL || key == NULL)
		return NULL;
	for (i = 0; i < m->len; i++)
		if (m->keys[i] && strcmp(m->keys[i], key) == 0)
			return m->values[i];
	return NULL;
}
