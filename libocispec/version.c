/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Placeholder until the parser lands; keeps the archive non-empty. */
#include "runtime_spec.h"
const char oci_spec_version[] = OCI_SPEC_VERSION;
