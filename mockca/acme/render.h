/* render.h: the JSON of ACME resources (RFC 8555 section 7.1) built from store snapshots,
 * and the URL of each resource. The paths are Pebble's where Pebble has one, so scripts
 * that hard-code them keep working; clients are meant to find them from the directory.
 * Every object is built with cJSON; every time is RFC 3339 UTC. */
#ifndef MOCKCA_ACME_RENDER_H
#define MOCKCA_ACME_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "mockca/acme/problem.h"
#include "mockca/config.h"
#include "mockca/store.h"

#define ACME_PATH_DIRECTORY "/dir"
#define ACME_PATH_NONCE "/nonce-plz"
#define ACME_PATH_NEW_ACCOUNT "/sign-me-up"
#define ACME_PATH_ACCOUNT "/my-account/"      /* + account id */
#define ACME_PATH_KEY_CHANGE "/rollover-account-key"
#define ACME_PATH_ORDERS "/list-orderz/"      /* + account id; ?cursor=N for the next page */
#define ACME_PATH_NEW_ORDER "/order-plz"
#define ACME_PATH_ORDER "/my-order/"          /* + order id (Pebble's; the orders list names it) */
#define ACME_PATH_NEW_AUTHZ "/new-authz"      /* ours: Pebble has no pre-authorization */
#define ACME_PATH_AUTHZ "/authZ/"             /* + authz id */
#define ACME_PATH_CHALLENGE "/chalZ/"         /* + challenge id */
#define ACME_PATH_FINALIZE "/finalize-order/" /* + order id */
#define ACME_PATH_CERT "/certZ/"              /* + serial; + "/alternate/N" for chain N */
#define ACME_PATH_REVOKE "/revoke-cert"
#define ACME_PATH_RENEWAL_INFO "/renewal-info/" /* + ARI certificate id (RFC 9773) */

/* base + path + id (id may be NULL or ""), new string. base is "https://host:port" with no
 * trailing slash. */
MC_MUST_CHECK enum mc_err render_url(const char *base, const char *path, const char *id,
                                     char **out);

struct acme_dir_meta {
    const char *terms_of_service; /* NULL: none */
    const char *website;          /* NULL: none */
    const char *const *caa_identities;
    size_t n_caa_identities;
    bool eab_required;
    const struct mockca_profile *profiles; /* "profiles": {name: description} */
    size_t n_profiles;
};

/* The directory (section 7.1.1): every resource URL (newNonce, newAccount, newOrder,
 * newAuthz, revokeCert, keyChange, renewalInfo) and "meta" with the members above that
 * are set. */
MC_MUST_CHECK enum mc_err render_directory(const char *base, const struct acme_dir_meta *meta,
                                           cJSON **out);
/* Section 7.1.2: status, contact, termsOfServiceAgreed (when agreed), orders URL; and
 * "key" (the JWK) as Pebble and Boulder add it. */
MC_MUST_CHECK enum mc_err render_account(const char *base, const struct account_snap *a,
                                         cJSON **out);
/* Section 7.1.3: status, expires, identifiers, notBefore/notAfter when set, authorizations,
 * finalize, certificate when valid, error when invalid, profile and replaces when set. */
MC_MUST_CHECK enum mc_err render_order(const char *base, const struct order_snap *o, cJSON **out);
/* Section 7.1.4: identifier (without "*."), status, expires, challenges, wildcard when true.
 * Every challenge is listed whatever the status, as Pebble does (RFC 8555 allows it). */
MC_MUST_CHECK enum mc_err render_authz(const char *base, const struct authz_snap *a, cJSON **out);
/* Section 8: type, url, status, token, validated when valid, error when invalid. */
MC_MUST_CHECK enum mc_err render_challenge(const char *base, const struct challenge_snap *c,
                                           cJSON **out);
/* Section 7.1.2.1: {"orders": [URL...]}. */
MC_MUST_CHECK enum mc_err render_orders_list(const char *base, const char (*ids)[STORE_ID_LEN + 1],
                                             size_t n, cJSON **out);
/* A problem document (section 6.7): type (URN), detail, status; with ident set, the
 * "identifier" member of a subproblem (section 6.7.1). */
MC_MUST_CHECK enum mc_err render_problem(const struct acme_error *e, const struct ident *ident,
                                         cJSON **out);

#endif
