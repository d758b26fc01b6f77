/* config.h: mockca's configuration, and reading Pebble's three ways of setting it (a JSON
 * file under the key "pebble", PEBBLE_* environment variables, and -config / -dnsserver /
 * -strict flags), so a CI job written for Pebble runs unchanged. Where Pebble has a default,
 * ours is the same, but for the nonce rejection rate: Pebble rejects 5 % of good nonces by
 * default, which breaks clients that retry badNonce once (certbot 2.1); here it is 0 unless
 * PEBBLE_WFE_NONCEREJECT asks. */
#ifndef MOCKCA_CONFIG_H
#define MOCKCA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/keys.h"

#define MOCKCA_MAX_PROFILES 16
#define MOCKCA_MAX_EAB_KEYS 256
#define MOCKCA_MAX_LIST 64 /* caaIdentities, domainBlocklist entries */
#define MOCKCA_MAX_CC_KEYS 64 /* certcentral.apiKeys */

struct mockca_profile {
    char *name;
    char *description;
    int64_t validity_s;  /* Pebble's validityPeriod, seconds; 0: 90 days */
    bool promote_cn;     /* Pebble's promoteCommonName */
};

/* A rate limit of ours (Pebble has none): at most count events per window_s seconds;
 * count 0 turns it off. */
struct mockca_rate_limit {
    unsigned count;
    int64_t window_s;
};

/* retry_after_form: how Retry-After on polled objects is written. */
#define MOCKCA_RETRY_AFTER_RANDOM 0
#define MOCKCA_RETRY_AFTER_SECONDS 1
#define MOCKCA_RETRY_AFTER_DATE 2

struct mockca_eab_key {
    char *kid;
    uint8_t *mac;        /* decoded from base64url, as Pebble's externalAccountMACKeys hold it */
    size_t mac_len;
};

/* An API key of the CertCentral front end (mockca/cc/cc.h): what X-DC-DEVKEY must carry.
 * role: "administrator" (may skip approval, approve requests, manage AuthKeys and ACME EAB
 * keys), "user" (orders, DCV, downloads) or "viewer" (GET only); account_id 0: account 1. */
struct mockca_cc_key {
    char *key;
    char *role;
    int64_t account_id;
};

/* The DigiCert CertCentral Services API v2 (ours), served on the ACME listener under
 * /services/v2/. JSON: the top-level "certcentral" object, next to "pebble" (Pebble's Go
 * decoder ignores a top-level member it has no field for, so one file serves both):
 *   {"apiKeys": [{"key", "role", "accountId"}], "httpPort", "dcvTimeoutMs", "autoApprove",
 *    "rateLimits": {"short": {"count", "windowSeconds"}, "long": {...}}, "maxOrders",
 *    "retentionSeconds", "maxCertDays"}
 * Environment: MOCKCA_CC_API_KEY adds one administrator key (account 1). With no key at
 * all, mockca_start generates one administrator key (mockca_cc_api_key). */
struct mockca_cc_config {
    struct mockca_cc_key keys[MOCKCA_MAX_CC_KEYS];
    size_t n_keys;               /* apiKeys: a present array replaces the set */
    uint16_t http_port;          /* httpPort: where fileauth.txt is fetched (http-token DCV);
                                    0 (default): the ACME httpPort, so one responder serves
                                    both protocols */
    int64_t dcv_timeout_ms;      /* dcvTimeoutMs: per DNS query or HTTP fetch; 0: 3000 */
    bool auto_approve;           /* autoApprove: orders skip the approval step; default false */
    /* rateLimits per API key: the real service's two windows, 100 requests per 5 s
     * ("short") and 1000 per 3 min ("long"), by default; count 0 turns one off. Over a
     * limit: 429 request_limit_exceeded with Retry-After. */
    struct mockca_rate_limit rl_short;
    struct mockca_rate_limit rl_long;
    int64_t max_orders;          /* maxOrders: orders kept; 0: 10000 */
    int64_t retention_s;         /* retentionSeconds: finished orders older than this may go
                                    when the store is full; 0: 7 days */
    int64_t max_cert_days;       /* maxCertDays: longest certificate; 0: the CA/B Forum's
                                    (397 days, 199 from 2026-02-24) */
};

struct mockca_config {
    /* Listeners ("host:port"; port 0 picks one). */
    char *listen_addr;           /* listenAddress; default "127.0.0.1:14000" */
    char *mgmt_addr;             /* managementListenAddress; default "127.0.0.1:15000" */
    char *tls_cert_file;         /* certificate; NULL: generate under a test root */
    char *tls_key_file;          /* privateKey */
    /* Validation. */
    char *dns_server;            /* -dnsserver; NULL: the embedded dnsmock */
    uint16_t http_port;          /* httpPort; default 5002 */
    uint16_t tls_port;           /* tlsPort; default 5001 */
    bool va_nosleep;             /* PEBBLE_VA_NOSLEEP */
    int64_t va_sleep_max_s;      /* PEBBLE_VA_SLEEPTIME; default 5, used when !va_nosleep */
    bool va_always_valid;        /* PEBBLE_VA_ALWAYS_VALID */
    /* Front end. */
    char *ocsp_url;              /* ocspResponderURL; NULL: ours */
    bool strict;                 /* -strict */
    /* "conformance": {"strict": bool} or MOCKCA_CONFORMANCE_STRICT: the client-conformance
     * grader (cconf.h) refuses client-behaviour violations instead of only recording them. */
    bool conformance_strict;
    unsigned nonce_reject_pct;   /* PEBBLE_WFE_NONCEREJECT, 0..100; default 0 (see above) */
    unsigned authz_reuse_pct;    /* PEBBLE_AUTHZREUSE, 0..100; default 50 */
    unsigned orders_per_page;    /* PEBBLE_WFE_ORDERS_PER_PAGE; default 3 */
    int64_t retry_after_authz_s; /* retryAfter.authz; default 3 */
    int64_t retry_after_order_s; /* retryAfter.order; default 5 */
    /* Accounts. */
    bool eab_required;           /* externalAccountBindingRequired */
    struct mockca_eab_key eab_keys[MOCKCA_MAX_EAB_KEYS];
    size_t n_eab_keys;           /* externalAccountMACKeys */
    /* Issuance. */
    enum key_type ca_key_type;   /* keyAlgorithm: "ecdsa" -> KEY_EC_P256 (default), "rsa" -> KEY_RSA2048 */
    char *ca_root_cert_file;     /* ours, "caRootCertificate": issue under this root (PEM)... */
    char *ca_root_key_file;      /* ..."caRootPrivateKey", its key; NULL both: generate */
    unsigned chain_length;       /* PEBBLE_CHAIN_LENGTH: intermediates; default 1 */
    unsigned alternate_roots;    /* PEBBLE_ALTERNATE_ROOTS; default 0 */
    char *caa_identities[MOCKCA_MAX_LIST];
    size_t n_caa_identities;     /* caaIdentities (ours: Pebble has no such field and
                                    never checks CAA, letsencrypt/pebble#476); default
                                    none, and then CAA is not checked */
    char *domain_blocklist[MOCKCA_MAX_LIST];
    size_t n_domain_blocklist;   /* domainBlocklist */
    struct mockca_profile profiles[MOCKCA_MAX_PROFILES];
    size_t n_profiles;           /* profiles; default one, "default" */
    /* The embedded dnsmock, started when dns_server is NULL (ours: Pebble has none). Its
     * DNS listener (UDP and TCP) and its challtestsrv-compatible management API (plain
     * HTTP). mockca_config_init gives the binary's defaults, "127.0.0.1:8053" and
     * "127.0.0.1:8055" (DESIGN.md), so an in-process user sets "127.0.0.1:0" here as for
     * listen_addr; NULL means "127.0.0.1:0" too; "" for dns_mgmt_addr: no management API. */
    char *dns_listen_addr;
    char *dns_mgmt_addr;
    /* Rate limits (ours: the Pebble JSON's "rateLimits" object, each member {"count": N,
     * "windowSeconds": S}); all off by default. A refusal is 429 rateLimited with
     * Retry-After in whole seconds, rounded up. */
    struct mockca_rate_limit rl_orders_per_account;   /* ordersPerAccount: newOrder requests
                                                         that pass validation, per account */
    struct mockca_rate_limit rl_failed_validations;   /* failedValidationsPerIdentifier:
                                                         newOrder refuses an identifier
                                                         with this many failed challenges */
    struct mockca_rate_limit rl_accounts_per_address; /* accountsPerAddress: new accounts
                                                         created per client IP */
    /* Housekeeping (ours: "sweepIntervalSeconds"): every this many seconds of real time a
     * thread drops expired and retained-past-retention objects from the store and prunes
     * the CA's registry; default 30; 0: no thread (POST /sweep on the management API still
     * sweeps). */
    int64_t sweep_interval_s;
    /* Store lifetimes and retention (ours), in seconds; 0 keeps the default. Pebble's
     * orders expire after 24 h and pending authorizations after 1 h; valid authorizations
     * live 30 days (for reuse); a final object is dropped retention_s after its last change
     * (default 24 h), by the sweeper or POST /sweep. JSON: "retentionSeconds",
     * "orderLifetimeSeconds", "authzLifetimeSeconds", "validAuthzLifetimeSeconds". */
    int64_t retention_s;
    int64_t order_lifetime_s;
    int64_t authz_lifetime_s;
    int64_t valid_authz_lifetime_s;
    /* Pebble's randomness (ours to switch): "shuffle" (default true, as Pebble): an order's
     * identifiers and authorization URLs and an authorization's challenges come in a seeded
     * random order; "randomProfile" (default false): a newOrder that names no profile gets
     * one drawn from profiles (seeded) instead of the first. "retryAfterForm": "random"
     * (default, as Pebble: delta-seconds or an IMF-fixdate HTTP-date from the run's clock,
     * drawn per response), "seconds" or "date". */
    bool shuffle;
    bool random_profile;
    int retry_after_form; /* MOCKCA_RETRY_AFTER_* */
    uint64_t fault_seed;         /* the run's seed (faults, Pebble's random knobs); 0: from
                                    the OS. The embedded dnsmock gets the same seed. */
    struct mockca_cc_config cc;  /* CertCentral (above) */
    /* Fault rules loaded at start (mockca/acme/afault.h has the rule form): a JSON array
     * text, NULL for none. JSON: the top-level "faults" array, next to "pebble" (it
     * replaces any earlier set); environment: MOCKCA_FAULTS names a file holding such an
     * array (or {"faults": [...]}), whose rules are appended. Every rule is checked when
     * it is read. */
    char *faults_json;
};

#define MOCKCA_FAULTS_FILE_MAX (1024 * 1024)

/* Pebble's defaults, as listed above. */
MC_MUST_CHECK enum mc_err mockca_config_init(struct mockca_config *cfg);
void mockca_config_free(struct mockca_config *cfg); /* frees members; NULL ok */

/* Applies a Pebble JSON config (text[0..len)): the object under "pebble", every field
 * Pebble reads, each with its type checked, and our top-level "certcentral" object when
 * present (struct mockca_cc_config). Unknown fields are ignored, as Pebble's Go
 * decoder does, but logged. MC_ERR_INVALID with a message in err naming the field for a
 * wrong type, a bad address, a bad base64url MAC key, an unknown keyAlgorithm, a
 * validityPeriod <= 0, or more entries than a bound allows; cfg is unchanged then. */
MC_MUST_CHECK enum mc_err mockca_config_apply_json(struct mockca_config *cfg, const char *text,
                                                   size_t len, char *err, size_t errn);

/* Applies PEBBLE_* variables read through getenv_fn (getenv in the binary; a table in
 * tests). Pebble's parsing: VA_NOSLEEP and VA_ALWAYS_VALID are on for "1" or "true";
 * numbers must be whole and in range. Ours: MOCKCA_RATE_ORDERS_PER_ACCOUNT,
 * MOCKCA_RATE_FAILED_VALIDATIONS_PER_IDENTIFIER and MOCKCA_RATE_ACCOUNTS_PER_ADDRESS set the
 * rate limits of "rateLimits" as "COUNT/SECONDS" ("0" turns one off), over the JSON's;
 * MOCKCA_CC_API_KEY adds a CertCentral administrator key of account 1 (printable ASCII, at
 * most 256 characters; nothing when the set has it already); MOCKCA_FAULTS appends the
 * fault rules of a file (faults_json above); MOCKCA_FAULT_SEED sets fault_seed (a positive
 * 64-bit integer). MC_ERR_INVALID naming the variable otherwise
 * (Pebble ignores bad values silently; a test bed should say so); cfg is unchanged then. */
MC_MUST_CHECK enum mc_err mockca_config_apply_env(struct mockca_config *cfg,
                                                  const char *(*getenv_fn)(const char *name),
                                                  char *err, size_t errn);

#endif
