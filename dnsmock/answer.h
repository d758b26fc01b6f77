/* answer.h: one DNS message in, one response out. The query path: header checks, fault
 * rules, request history, opcode dispatch (QUERY here, UPDATE to update.c), and the
 * answer built from the zone store with ldns. */
#ifndef DNSMOCK_ANSWER_H
#define DNSMOCK_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct dnsmock;

/* Handles msg[0..len) received over UDP (tcp false) or TCP from client (an IP as text).
 * On MC_OK, *out is the response wire (new; caller frees) or NULL when nothing must be
 * sent (a header too short to read, a QR=1 message, a "drop" fault), and *delay_ms how
 * long to hold the answer first (a "delay" fault; 0 otherwise). Over UDP a response larger
 * than the client's limit (512, or its EDNS0 size) is cut to the header and question with
 * TC=1. A malformed message whose header is readable gets FORMERR. Never fails on client
 * input; only MC_ERR_NOMEM. */
MC_MUST_CHECK enum mc_err dns_handle_message(struct dnsmock *d, const uint8_t *msg, size_t len,
                                             bool tcp, const char *client, uint8_t **out,
                                             size_t *outlen, int64_t *delay_ms);

#endif
