/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CAPABILITIES_H
#define SKIFF_CAPABILITIES_H

#include <stdint.h>

#include "error.h"

/*
 * Capability names as the runtime-spec writes them ("CAP_KILL"): exact,
 * case-sensitive, prefix required.  These are not called cap_from_name()
 * and cap_to_name(): libcap, which skiff links, exports those names with
 * other signatures.
 *
 * Sets are uint64_t masks, bit N for capability N.
 */

/* The capability number, or -1 when skiff does not know the name. */
int capability_from_name(const char *name);
/* The name, or NULL when skiff has no name for the number. */
const char *capability_to_name(int cap);
/* The highest capability number skiff has a name for. */
int capability_table_last(void);
/*
 * The highest capability the running kernel knows (cap_last_cap), read
 * once; probed with PR_CAPBSET_READ when /proc is not there (inside a
 * container before /proc is mounted).
 */
int capability_last_cap(void);
/*
 * Turns a NULL-terminated list of names (NULL: empty) into a mask.  An
 * unknown name is left out (process_validate() warns about it); a name the
 * running kernel does not know is left out with a debug message.
 */
int capability_mask(char *const *names, const char *field, uint64_t *mask,
                    struct skiff_error **err);

#endif
