/* va.h: the validation authority. It performs the checks a real CA's VA does, against the
 * client, for real: an HTTP fetch (http-01), DNS TXT lookups through the configured DNS
 * server (dns-01, dns-account-01), a TLS handshake with ALPN acme-tls/1 (tls-alpn-01,
 * RFC 8737), and CAA (RFC 8659). Every network step is bounded by cfg->timeout_ms.
 * Names are resolved through cfg->dns_server only (never the system resolver), as Pebble
 * does with its -dnsserver, so a test controls every answer. Thread-safe: no shared state. */
#ifndef MOCKCA_VA_H
#define MOCKCA_VA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/csr.h"
#include "mockca/acme/problem.h"

#define VA_HTTP_BODY_MAX 4096 /* a key authorization is far shorter */
#define VA_MAX_REDIRECTS 10

struct va_config {
    const char *dns_server; /* "127.0.0.1:8053": A/AAAA, TXT and CAA queries go here */
    uint16_t http_port;     /* http-01 port; Pebble's httpPort, 5002 by default */
    uint16_t tls_port;      /* tls-alpn-01 port; Pebble's tlsPort, 5001 by default */
    int64_t timeout_ms;     /* per validation; 0: 10000 */
    bool prefer_ipv6;       /* ask AAAA first, as Pebble's VA does; default false: A first */
};

/* What a failed validation found wrong in the client's own answer (for the client
 * conformance grader, cconf.h); VA_FAULT_NONE for a success and for failures that are not
 * a wrong answer (nothing listening, DNS, TLS). */
enum va_fault { VA_FAULT_NONE = 0, VA_FAULT_KEYAUTH, VA_FAULT_ALPN };

struct va_result {
    bool valid;
    enum va_fault client_fault;
    struct acme_error error; /* when !valid: connection, dns, tls, incorrectResponse,
                                unauthorized, caa, ... with a detail naming what was seen */
    char address[64];        /* the IP that was contacted, for the challenge's
                                validationRecord */
};

/* http-01 (RFC 8555 section 8.3): GET http://<ident>:<http_port>/.well-known/acme-challenge/
 * <token>, following at most VA_MAX_REDIRECTS redirects to http or https URLs on any port
 * (Let's Encrypt allows only 80 and 443; a test bed must let the test pick), https
 * without certificate verification as Let's Encrypt's VA does, body at most
 * VA_HTTP_BODY_MAX; valid when the body, trailing whitespace trimmed, equals
 * key_authorization. */
void va_http01(const struct va_config *cfg, const struct ident *id, const char *token,
               const char *key_authorization, struct va_result *out);
/* dns-01 (section 8.4): a TXT at _acme-challenge.<name> (a wildcard's "*." removed),
 * CNAMEs followed, equal to base64url(SHA-256(key_authorization)). DNS names only. */
void va_dns01(const struct va_config *cfg, const struct ident *id, const char *key_authorization,
              struct va_result *out);
/* dns-account-01 (draft-ietf-acme-dns-account-label): a TXT at
 * _<label>._acme-challenge.<name>, label the base32 (lowercase, no padding) of the first
 * 10 bytes of SHA-256(account_url), so 16 characters, value as dns-01's. */
void va_dns_account01(const struct va_config *cfg, const struct ident *id,
                      const char *account_url, const char *key_authorization,
                      struct va_result *out);
/* tls-alpn-01 (RFC 8737 section 3): a TLS handshake to <ident>:<tls_port> with SNI the name
 * (for an IP, the reverse-mapping name of RFC 8738 section 6) and ALPN exactly
 * "acme-tls/1"; valid when the server selects acme-tls/1 and presents a certificate whose
 * only SAN is the identifier and whose critical acmeIdentifier extension holds
 * SHA-256(key_authorization). */
void va_tlsalpn01(const struct va_config *cfg, const struct ident *id,
                  const char *key_authorization, struct va_result *out);

/* CAA (RFC 8659): climbs from the name (a wildcard's base name) towards the root and takes
 * the first non-empty CAA RRset. Issuance is allowed when there is none; else when an
 * "issue" (or for a wildcard "issuewild", which takes precedence when present) property
 * names one of ca_domains (parameters after ';' are ignored); a property with the critical
 * flag and an unknown tag forbids it. A DNS failure (SERVFAIL, timeout) forbids it too
 * (RFC 8659 section 3: a CA must not issue when the lookup fails), as error type dns. */
void va_caa(const struct va_config *cfg, const struct ident *id, bool wildcard,
            const char *const *ca_domains, size_t n_domains, struct va_result *out);

#endif
