/* cc.h: the DigiCert CertCentral Services API v2 emulation (wire format:
 * shared/specs/certcentral.md, part A). A self-contained module: it keeps its own store
 * (orders, certificates, requests, domains, organizations, API keys, AuthKeys, ACME EAB
 * keys, status changes), signs with mockca's CA, reads time from the shared clock, and
 * checks domain control for real through a configured DNS server and HTTP port.
 *
 * Wiring: the host server routes every method of "/services/v2/" "*" to cc_handle, and a
 * management prefix (for example "/cc/" "*") to cc_mgmt_handle. Thread-safe: handlers
 * may run on several workers at once. */
#ifndef MOCKCA_CC_H
#define MOCKCA_CC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/http.h"
#include "mockca/ca.h"

#define CC_PREFIX "/services/v2/"
#define CC_MAX_BODY (64 * 1024)

/* An API key given by configuration. role: "administrator" (may skip_approval, approve
 * requests, manage AuthKeys and EAB keys), "user" (orders, DCV, downloads) or "viewer"
 * (GET only). account_id 0: account 1. */
struct cc_key_config {
    const char *key;
    const char *role;
    int64_t account_id;
};

struct cc_config {
    const char *dns_server;     /* "127.0.0.1:8053": DCV TXT/CNAME and A lookups go here */
    uint16_t http_port;         /* port fileauth.txt is fetched from; 0: 80 */
    int64_t dcv_timeout_ms;     /* per DNS query or HTTP fetch; 0: 3000 */
    const char *acme_directory_url; /* returned by POST /key/acme-eab; NULL: a placeholder */
    /* Rate limits per API key, two rolling windows (A0: 100 per 5 s and 1000 per 3 min
     * on the real service); a limit of 0 is off. */
    unsigned rate_short_limit;
    int64_t rate_short_window_ms;
    unsigned rate_long_limit;
    int64_t rate_long_window_ms;
    /* New orders and reissues wait for an approval (request "pending", order
     * "needs_approval") unless placed with skip_approval; true approves them at once. */
    bool auto_approve;
    size_t max_orders;          /* store bound; 0: 10000 */
    int64_t retention_s;        /* finished orders older than this may be dropped when
                                   the store is full; 0: 7 days */
    int64_t max_cert_days;      /* 0: 397, or 199 from 2026-02-24 (CA/B Forum) */
    const struct cc_key_config *keys;
    size_t nkeys;
};

struct cc_server;

/* A new CertCentral front end over ca and clock (both borrowed, must outlive it). cfg's
 * strings are copied. MC_ERR_INVALID for a key with an unknown role or an empty key. */
MC_MUST_CHECK enum mc_err cc_new(const struct cc_config *cfg, struct ca *ca,
                                 struct mc_clock *clock, struct cc_server **out);
void cc_free(struct cc_server *cc); /* NULL ok */

/* Answers one API request whose path starts with CC_PREFIX (any method). Sets resp fully:
 * a JSON body, an empty 204, or a download; errors always as {"errors":[{code,message}]}.
 * Use as an http_handler_fn with ctx = cc. */
void cc_handle(void *cc, const struct http_request *req, struct http_response *resp);
/* cc_handle with devkey (NULL: none) in place of the request's X-DC-DEVKEY header: for
 * in-process callers that build a struct http_request without a connection (fuzzers). */
void cc_handle_key(struct cc_server *cc, const char *devkey, const struct http_request *req,
                   struct http_response *resp);

/* The body of the HTTP layer's own 404/405/413 answers for paths under CC_PREFIX, in the
 * CertCentral envelope (413: request_too_large). Call it from the server's error hook. */
void cc_layer_error(const struct http_request *req, int status, const char *message,
                    struct http_response *resp);

/* The management API (JSON in, JSON out). Route "GET" and "POST" of a prefix ending in "*"
 * here with ctx = cc: the last capture is the sub-path. Sub-paths:
 *   POST api-keys              {"key"?, "role", "account_id"?} -> 201 {"key","role","account_id"}
 *   POST email-dcv/approve     {"order_id", "dns_name"} or {"domain_id"} -> 200 {"approved":n}
 *   GET  emails                -> {"emails":[{id,order_id,domain_id,dns_name,email,date_sent}]}
 *   POST organization/{id}/validation {"type":"ov"|"ev", "status":"active"|"pending"|
 *                              "rejected"} -> 200 {"validations":[...]}
 *   POST sweep                 -> 200 {"expired":n} (expiry is also swept on every call) */
void cc_mgmt_handle(void *cc, const struct http_request *req, struct http_response *resp);

/* The same management actions as C calls, for in-process tests. */
MC_MUST_CHECK enum mc_err cc_add_api_key(struct cc_server *cc, const char *key,
                                         const char *role, int64_t account_id);
/* Approves the email DCV of dns_name on order_id (as if the emailed link was followed),
 * then issues when the order is ready. MC_ERR_NOT_FOUND for no such order or name. */
MC_MUST_CHECK enum mc_err cc_approve_email(struct cc_server *cc, int64_t order_id,
                                           const char *dns_name);
/* Sets an organization's "ov" or "ev" validation to status ("active", "pending",
 * "rejected"); "active" lasts 397 days. Orders waiting on it issue when ready. */
MC_MUST_CHECK enum mc_err cc_org_validate(struct cc_server *cc, int64_t org_id, const char *type,
                                          const char *status);
/* How many DCV emails have been "sent" to address `to` (NULL: all). */
size_t cc_email_count(struct cc_server *cc, const char *to);

/* An ACME External Account Binding key made by POST /key/acme-eab (A11), for mockca's
 * ACME newAccount (RFC 8555 section 7.3.4). */
struct cc_eab_info {
    uint8_t hmac[32];           /* the raw HMAC key; ext_act_hmac is its base64url */
    size_t hmac_len;
    char product_name_id[64];
    int64_t organization_id;
    int64_t account_id;
    int validity_years;
};
/* Looks up kid (ext_act_kid). MC_ERR_NOT_FOUND when unknown. */
MC_MUST_CHECK enum mc_err cc_eab_lookup(struct cc_server *cc, const char *kid,
                                        struct cc_eab_info *out);

/* The AuthKey request token (A10): ts ("yyyyMMddHHmmss") followed by base36 of
 * HMAC-SHA256(auth_key, ts + csr), left-padded with '0' to 50 characters: 64 characters
 * and a NUL in out. MC_ERR_INVALID for a ts that is not 14 digits. */
MC_MUST_CHECK enum mc_err cc_request_token(const char *auth_key, const char *ts, const char *csr,
                                           char out[65]);

#endif
