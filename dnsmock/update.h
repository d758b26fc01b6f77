/* update.h: RFC 2136 dynamic UPDATE, authenticated with TSIG (dnsmock/tsig.h). Updates
 * land in the same zone store the management API and queries see. */
#ifndef DNSMOCK_UPDATE_H
#define DNSMOCK_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "common/err.h"
#include "dnsmock/dnsmock.h"
#include "dnsmock/tsig.h" /* the keyring, for callers that set up updates */

struct dnsmock;

/* Handles an UPDATE (opcode 5) query, parsed into q from wire[0..len). The rules:
 * - a TSIG that names an unknown key, or whose MAC or time does not verify: NOTAUTH with
 *   the TSIG error BADKEY / BADSIG / BADTIME (RFC 8945 section 5.2), nothing changes;
 * - no TSIG while keys exist and unsigned updates are not allowed: REFUSED;
 * - zone section not one SOA question: FORMERR; in strict mode a zone that is not an apex
 *   in the store: NOTAUTH; an update RR outside the zone: NOTZONE;
 * - prerequisites (RFC 2136 section 3.2) checked, then every update applied under one
 *   write lock, all or nothing; unsupported types: REFUSED before anything changes.
 * The response is signed with the request's key when the request was signed.
 * *out is the response wire (new; caller frees). Only MC_ERR_NOMEM fails. */
MC_MUST_CHECK enum mc_err dns_update_handle(struct dnsmock *d, const ldns_pkt *q,
                                            const uint8_t *wire, size_t len, uint8_t **out,
                                            size_t *outlen);

#endif
