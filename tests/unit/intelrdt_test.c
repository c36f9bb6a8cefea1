/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.intelRdt's pure parts: field validation and comparing a schema with
 * a schemata file as resctrl prints it.  Placing processes needs resctrl,
 * which tests/integration/test_intelrdt.py uses where the host has it.
 */
#include <config.h>

#include "tap.h"
#include "libskiff/intelrdt.h"

/* As resctrl prints it: padded, leading zeros, every domain. */
static const char *const file = "    L3:0=007f0;1=0001f\n"
                                "    L2:0=f;1=f;2=f;3=f\n"
                                "    MB:0= 20;1= 70\n";

static void test_matches(void)
{
	ok(intelrdt_schema_matches("L3:0=7f0;1=1f", file), "L3 with leading zeros dropped");
	ok(intelrdt_schema_matches("MB:0=20;1=70", file), "MB with padding dropped");
	ok(intelrdt_schema_matches("MB:1=70", file), "a subset of the domains");
	ok(intelrdt_schema_matches(" L3 : 0 = 7F0 ", file), "blanks and hex case");
	ok(!intelrdt_schema_matches("L3:0=7f1;1=1f", file), "a different mask");
	ok(!intelrdt_schema_matches("MB:0=2;1=70", file), "MB is decimal, not a prefix");
	ok(!intelrdt_schema_matches("L3:2=1", file), "a domain the file lacks");
	ok(!intelrdt_schema_matches("L3CODE:0=1", file), "a resource the file lacks");
	ok(!intelrdt_schema_matches("L3", file), "no colon");
	ok(!intelrdt_schema_matches("L3:0", file), "no value");
}

static const char *validate_text(struct oci_intel_rdt *r)
{
	static char buf[512];
	struct skiff_error *err = NULL;

	if (intelrdt_validate(r, &err) == 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", err->msg);
	error_free(&err);
	return buf;
}

static void test_validate(void)
{
	char *nl[] = {"L3:0=1", "MB:0=1\nL2:0=1", NULL};
	struct oci_intel_rdt r = {.mem_bw_schema = "L3:0=1"};
	const char *e;

	ok_str(validate_text(&r),
	       "linux.intelRdt.memBwSchema: \"L3:0=1\" does not start with \"MB:\"",
	       "memBwSchema must start with MB:");
	r = (struct oci_intel_rdt){.l3_cache_schema = "L3:0=1\nMB:0=1"};
	ok_str(validate_text(&r), "linux.intelRdt.l3CacheSchema: must not contain a newline",
	       "l3CacheSchema on one line");
	r = (struct oci_intel_rdt){.schemata = nl};
	ok_str(validate_text(&r), "linux.intelRdt.schemata[1]: must not contain a newline",
	       "schemata lines on one line");
	r = (struct oci_intel_rdt){.clos_id = "a/b"};
	ok_str(validate_text(&r), "linux.intelRdt.closID: \"a/b\" is not a resctrl group name",
	       "closID is one name");
	r = (struct oci_intel_rdt){.clos_id = "info"};
	ok(validate_text(&r) != NULL, "closID may not be resctrl's own info directory");
	r = (struct oci_intel_rdt){.clos_id = "/"};
	e = validate_text(&r);
	ok(e == NULL || strstr(e, "no resctrl filesystem is mounted at /sys/fs/resctrl"),
	   "closID \"/\" is the root group (only the mount can be missing): %s", e ? e : "ok");
}

int main(void)
{
	test_matches();
	test_validate();
	done_testing();
}
