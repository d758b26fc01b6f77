/* dc_int.h: what dc.c (transport) shares with dc_api.c (the typed endpoints). Not part of
 * libcertcli's API. */
#ifndef CERTCLI_DC_INT_H
#define CERTCLI_DC_INT_H

#include <stdint.h>

#include "client/dc.h"

/* Sets the one-line message dc_last_message returns (control bytes made spaces). */
void dc_set_msg(struct dc_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sleeps ms milliseconds (resuming after signals); bounded by the caller. */
void dc_sleep(int64_t ms);

#endif
