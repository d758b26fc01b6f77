/* srvconf.h: server conformance, the engine of `certcli conformance --server URL`. It runs
 * a scripted ACME exchange against any server and grades the server on RFC 8555's
 * server-side requirements: the directory, newNonce, Replay-Nonce and Link headers,
 * Location on created objects, status codes, problem documents (type and Content-Type),
 * refusal of malformed requests (nonce missing, forged or reused, wrong Content-Type, url
 * mismatch, unknown kid, alg none and HS256, a wrong signature, jwk and kid together, a
 * payload on POST-as-GET, plain GET on a POST-as-GET resource), the state machine from a
 * new order through http-01 to a valid order and its certificate, revocation and account
 * deactivation.
 *
 * The catalog is a static table (sc_catalog) of struct report_req with stable IDs
 * "ACME-SERVER-AREA-NNN"; each is checked at one place in srvconf.c. Every exchange is
 * recorded in the report (common/report.h) with its request and response headers and
 * bodies; a signed request's body is shown with its protected header and payload decoded.
 * Nothing secret is sent (account keys travel as public JWKs, no EAB), so nothing needs
 * redacting.
 *
 * The well-formed requests are made by this module too, on its own libcurl handle, because
 * grading needs every response header (Replay-Nonce, Cache-Control, Link) and the raw
 * request, which client/session.h deliberately hides; the session is used to judge the
 * directory the way every certcli command reads it, and for the key authorization. */
#ifndef CERTCLI_SRVCONF_H
#define CERTCLI_SRVCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/solver.h"
#include "common/err.h"
#include "common/report.h"

#define SC_SUITE "acme-server"

struct sc_opts {
    const char *directory_url;
    const char *ca_bundle;  /* TLS trust (else $SSL_CERT_FILE, $CURL_CA_BUNDLE, system) */
    bool insecure;          /* skip TLS verification (explicit flag only) */
    const char *identifier; /* the DNS name ordered; NULL: "conformance-RANDOM.example.com" */
    /* http-01: the standalone solver listens on http_address:http_port (the port the server
     * validates on), unless solver is given (borrowed, already listening: tests make one on
     * port 0). skip_issuance stops after the checks that need no validation. */
    const char *http_address; /* NULL: "0.0.0.0" */
    long http_port;           /* -1: none */
    struct solver *solver;
    bool skip_issuance;
    long timeout_s;         /* per HTTP exchange; 0: 30 */
    long poll_timeout_s;    /* per wait for a state change; 0: 60 */
    const char *user_agent; /* NULL: "certcli-conformance/VERSION" */
    uint64_t seed;          /* recorded in the report */
};

void sc_opts_init(struct sc_opts *o); /* zeroes, http_port -1 */

/* The catalog (static, n entries). */
const struct report_req *sc_catalog(size_t *n);

/* Runs the exchange against o->directory_url and grades it into *out, a new report
 * (report_free) over sc_catalog(); *out is set whenever it could be allocated, also on
 * failure, so that a run cut short still reports what it saw. MC_OK when the script ran
 * to its end (violations or not); MC_ERR_IO when a transport error (connection refused,
 * TLS) cut it short; MC_ERR_INVALID for options that do not hang together (no directory
 * URL; issuance without a solver or port); MC_ERR_NOMEM. */
MC_MUST_CHECK enum mc_err sc_run(const struct sc_opts *o, struct report **out);

/* True when no MUST failed (and, with strict_should, no SHOULD either). */
bool sc_passed(const struct report *r, bool strict_should);

#endif
