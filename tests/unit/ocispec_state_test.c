/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.json and the features document: parse, generate, round trip, errors. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libocispec/config_tables.h"
#include "libocispec/runtime_spec.h"
#include "tap.h"

static struct oci_state *state_parse(const char *json, char **err)
{
	return oci_state_parse_data(json, strlen(json), "state.json", err);
}

static struct oci_features *features_parse(const char *json, char **err)
{
	return oci_features_parse_data(json, strlen(json), "features", err);
}

static void state(void)
{
	const char *doc = "{\"ociVersion\": \"1.2.0\", \"id\": \"web\", \"status\": \"running\","
	                  " \"pid\": 4242, \"bundle\": \"/srv/bundle\","
	                  " \"annotations\": {\"a.b\": \"c\"}, \"extra\": [1]}";
	struct oci_state *s, *s2, hand = {0};
	char *err = NULL, *gen, *gen2;

	s = oci_state_parse_data(doc, strlen(doc), "state.json", &err);
	ok(s != NULL, "state parses");
	ok_str(err, NULL, "state: no error");
	if (s == NULL)
		return;
	ok(strcmp(s->id, "web") == 0 && strcmp(s->status, "running") == 0 && s->has_pid &&
	       s->pid == 4242 && strcmp(s->bundle, "/srv/bundle") == 0,
	   "state fields");
	ok_str(oci_map_get(&s->annotations, "a.b"), "c", "state annotations");
	gen = oci_state_generate(s, &err);
	ok_str(gen,
	       "{\n  \"ociVersion\": \"1.2.0\",\n  \"id\": \"web\",\n  \"status\": \"running\",\n"
	       "  \"pid\": 4242,\n  \"bundle\": \"/srv/bundle\",\n  \"annotations\": {\n"
	       "    \"a.b\": \"c\"\n  }\n}\n",
	       "state generates in spec order");
	s2 = gen ? oci_state_parse_data(gen, strlen(gen), "state.json", &err) : NULL;
	ok(s2 && jw_equal(&oci_state_desc, s, s2), "state round trip");
	oci_state_free(s);
	oci_state_free(s2);
	free(gen);

	/* a stopped container has no pid: it is left out */
	hand.oci_version = "1.2.0";
	hand.id = "x";
	hand.status = "stopped";
	hand.bundle = "/b";
	gen2 = oci_state_generate(&hand, &err);
	ok_str(gen2,
	       "{\n  \"ociVersion\": \"1.2.0\",\n  \"id\": \"x\",\n  \"status\": \"stopped\",\n"
	       "  \"bundle\": \"/b\"\n}\n",
	       "state without pid");
	free(gen2);

	s = state_parse("{\"ociVersion\": \"1.0.0\", \"id\": \"a\", \"status\": \"created\"}",
	                &err);
	ok(s == NULL, "state without bundle fails");
	ok_str(err, "state.json: bundle: missing required field", "state: missing bundle");
	free(err);
	s = state_parse("{\"ociVersion\": \"1.0.0\", \"id\": 7}", &err);
	ok_str(err, "state.json: id: expected a string", "state: id type");
	free(err);
	s = state_parse("{\"ociVersion\": \"1.0.0\", \"id\": \"a\", \"status\": \"created\", "
	                "\"bundle\": \"/b\", \"pid\": 2147483648}",
	                &err);
	ok_str(err, "state.json: pid: 2147483648 out of range for a 32-bit integer",
	       "state: pid range");
	free(err);
	s = state_parse("{\"id\": \"a\"}", &err);
	ok_str(err, "state.json: ociVersion: missing required field", "state: ociVersion");
	free(err);
	oci_state_free(NULL);
}

static void features(void)
{
	const char *doc =
	    "{\"ociVersionMin\": \"1.0.0\", \"ociVersionMax\": \"1.2.0\","
	    " \"hooks\": [\"prestart\", \"poststop\"], \"mountOptions\": [\"ro\", \"rbind\"],"
	    " \"annotations\": {\"org.skiff.version\": \"0.1.0\"},"
	    " \"potentiallyUnsafeConfigAnnotations\": [\"org.skiff.\"],"
	    " \"linux\": {\"namespaces\": [\"pid\", \"time\"], \"capabilities\": [\"CAP_KILL\"],"
	    " \"cgroup\": {\"v1\": false, \"v2\": true, \"systemd\": true, \"systemdUser\": false,"
	    " \"rdma\": false},"
	    " \"seccomp\": {\"enabled\": true, \"actions\": [\"SCMP_ACT_LOG\"], \"operators\":"
	    " [\"SCMP_CMP_EQ\"], \"archs\": [\"SCMP_ARCH_X86_64\"], \"knownFlags\": [],"
	    " \"supportedFlags\": [\"SECCOMP_FILTER_FLAG_LOG\"]},"
	    " \"apparmor\": {\"enabled\": false}, \"selinux\": {}, \"intelRdt\": {\"enabled\": "
	    "true, \"schemata\": true, \"monitoring\": false},"
	    " \"mountExtensions\": {\"idmap\": {\"enabled\": true}}, \"netDevices\": {\"enabled\":"
	    " true}, \"memoryPolicy\": {\"modes\": [\"MPOL_BIND\"], \"flags\": []}}}";
	struct oci_features *f, *f2;
	char *err = NULL, *gen;

	f = oci_features_parse_data(doc, strlen(doc), "features", &err);
	ok(f != NULL, "features parse");
	ok_str(err, NULL, "features: no error");
	if (f == NULL)
		return;
	ok(f->linux_->cgroup->has_v1 && !f->linux_->cgroup->v1 && f->linux_->cgroup->v2,
	   "features: cgroup bools, false kept");
	ok(!f->linux_->selinux->has_enabled && f->linux_->apparmor->has_enabled &&
	       !f->linux_->apparmor->enabled,
	   "features: enabled unknown vs false");
	ok(f->linux_->mount_extensions->idmap->enabled, "features: mountExtensions.idmap");
	ok(f->linux_->seccomp->known_flags && f->linux_->seccomp->known_flags[0] == NULL,
	   "features: empty knownFlags kept");
	gen = oci_features_generate(f, &err);
	ok(gen && strstr(gen, "\"v1\": false") && !strstr(gen, "\"selinux\": {\n        \"enabled"),
	   "features: false written, unknown left out");
	f2 = gen ? oci_features_parse_data(gen, strlen(gen), "features", &err) : NULL;
	ok(f2 && jw_equal(&oci_features_desc, f, f2), "features round trip");
	oci_features_free(f);
	oci_features_free(f2);
	free(gen);

	f = features_parse("{\"ociVersionMin\": \"1.0.0\"}", &err);
	ok_str(err, "features: ociVersionMax: missing required field", "features: required");
	free(err);
	f = features_parse("{\"ociVersionMin\": \"1.0.0\", \"ociVersionMax\": \"1.2.0\","
	                   " \"linux\": {\"cgroup\": {\"v2\": \"yes\"}}}",
	                   &err);
	ok_str(err, "features: linux.cgroup.v2: expected a boolean", "features: type error");
	free(err);
	oci_features_free(NULL);
}

int main(void)
{
	state();
	features();
	done_testing();
}
