/* tsig.h: TSIG (RFC 8945) for every request dnsmock answers: the keyring, the check of a
 * request's TSIG (key, then MAC, then time, section 5.2), and the TSIG of the response.
 * A signed request gets a signed response whatever its opcode (section 5.3): an UPDATE,
 * and also the SOA query nsupdate signs before it to find the zone. */
#ifndef DNSMOCK_TSIG_H
#define DNSMOCK_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "common/clock.h"
#include "common/err.h"
#include "dnsmock/dnsmock.h"

/* RFC 8945 section 3: TSIG error codes carried in the TSIG RR's Error field. */
#define TSIG_ERR_BADSIG 16
#define TSIG_ERR_BADKEY 17
#define TSIG_ERR_BADTIME 18

struct tsig_keyring;
struct tsig_key_ent;

/* A keyring from config. MC_ERR_INVALID for a key with no name, an unknown algorithm, or a
 * secret that is not base64. *out is new (tsig_keyring_free); n may be 0. */
MC_MUST_CHECK enum mc_err tsig_keyring_new(const struct dnsmock_tsig_key *keys, size_t n,
                                           struct tsig_keyring **out);
void tsig_keyring_free(struct tsig_keyring *k); /* NULL ok */
size_t tsig_keyring_count(const struct tsig_keyring *k);

/* The outcome of checking a request's TSIG. */
struct tsig_check {
    const struct tsig_key_ent *key; /* the key it verified with (also set for BADTIME) */
    uint8_t rcode;                  /* NOERROR, FORMERR (a malformed TSIG) or NOTAUTH */
    uint16_t error;                 /* with NOTAUTH: BADKEY, BADSIG or BADTIME */
};

/* Checks the TSIG of q, parsed from wire[0..len); q must carry one (ldns_pkt_tsig). The
 * time is checked against clock (may be NULL: real time) within the request's fudge.
 * keys may be NULL (then every key is unknown: BADKEY). */
void tsig_check_request(const struct tsig_keyring *keys, const struct mc_clock *clock,
                        const ldns_pkt *q, const uint8_t *wire, size_t len, struct tsig_check *c);

/* Adds to resp (complete but for its TSIG) the TSIG that answers q's, per c: signed with
 * the request's MAC when c verified; signed with the server time in Other Data for
 * BADTIME (section 5.2.3); unsigned with an empty MAC for BADKEY and BADSIG (section
 * 5.3.2). Nothing when q carried no TSIG. false when out of memory or signing failed. */
MC_MUST_CHECK bool tsig_sign_response(const struct mc_clock *clock, const ldns_pkt *q,
                                      const struct tsig_check *c, ldns_pkt *resp);

#endif
