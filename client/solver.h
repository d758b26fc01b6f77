/* solver.h: challenge solvers (RFC 8555 section 8, RFC 8737, dns-account-01). A solver
 * answers one challenge type by one mechanism: it makes the response visible (present),
 * waits until the CA could see it (wait_ready: the DNS propagation check), and takes it
 * away again (cleanup). All calls are thread-safe: certcli bench shares one http-01
 * standalone solver among its workers.
 *
 * Token characters and names are validated here before they reach a file name, a URL, a
 * DNS name or a hook's environment (STYLE: OpenBSD acme-client's habit). */
#ifndef CERTCLI_SOLVER_H
#define CERTCLI_SOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/csr.h"
#include "common/err.h"

enum ch_type { CH_HTTP01 = 1, CH_DNS01, CH_TLSALPN01, CH_DNSACCOUNT01 };
/* "http-01", "dns-01", "tls-alpn-01", "dns-account-01"; the names differ from mockca's store.h
 * (chall_type) because tests link both libraries. */
const char *ch_type_name(enum ch_type t);
MC_MUST_CHECK enum mc_err ch_type_parse(const char *name, enum ch_type *out);

enum solver_kind {
    SOLVER_HTTP_STANDALONE = 1, /* a built-in HTTP server serving the key authorizations */
    SOLVER_HTTP_WEBROOT,        /* files under WEBROOT/.well-known/acme-challenge/ */
    SOLVER_ALPN_STANDALONE,     /* a built-in TLS server with ALPN acme-tls/1 */
    SOLVER_DNS_MGMT,            /* TXT via the dnsmock / pebble-challtestsrv management API */
    SOLVER_DNS_RFC2136,         /* TXT via RFC 2136 UPDATE, optionally TSIG-signed */
    SOLVER_DNS_HOOK,            /* TXT via a program called with present / cleanup */
};

/* The DNS propagation check of dns-01 / dns-account-01 (client-features.md: users want
 * checks against the authoritative servers). The zone's authoritative servers are found by
 * walking up from the record name asking `resolver` for NS (ldns), their addresses
 * resolved the same way; each is then asked directly, on auth_port, until every one
 * answers the expected TXT value, polling every interval_ms for at most timeout_s. */
struct propagation {
    bool enabled;
    const char *resolver;   /* "IP:PORT" or "IP" (port 53); NULL: the first of /etc/resolv.conf */
    uint16_t auth_port;     /* port to ask the authoritative servers on; default 53 */
    long timeout_s;         /* default 120 */
    long interval_ms;       /* default 1000 */
};

struct solver_config {
    enum solver_kind kind;
    /* HTTP and ALPN standalone: where to listen ("127.0.0.1"/"::"/"0.0.0.0"; NULL:
     * "0.0.0.0") and the port. Port 0 always means the kernel picks a free one
     * (solver_port() tells which), whatever the address; the library has no default of 80
     * or 443: a caller that wants the challenge ports (the certcli command line when the
     * user names none) passes 80 / 443 itself. */
    const char *address;
    uint16_t port;
    const char *webroot;    /* SOLVER_HTTP_WEBROOT */
    const char *mgmt_url;   /* SOLVER_DNS_MGMT: "http://127.0.0.1:8055" */
    /* SOLVER_DNS_RFC2136: the primary server "IP:PORT", an optional zone (NULL: found
     * through SOA), and an optional TSIG key (name, algorithm "hmac-sha256" etc., base64
     * secret). */
    const char *server;
    const char *zone;
    const char *tsig_name, *tsig_alg, *tsig_secret;
    /* SOLVER_DNS_HOOK: the program, run as PROGRAM present|cleanup FQDN VALUE with the
     * environment CERTCLI_ACTION, CERTCLI_DOMAIN, CERTCLI_FQDN, CERTCLI_TXT_VALUE,
     * CERTCLI_TOKEN, CERTCLI_KEY_AUTH, CERTCLI_CHALLENGE; killed after hook_timeout_s
     * (default 60). A non-zero exit is MC_ERR_IO. */
    const char *hook;
    long hook_timeout_s;
    struct propagation prop; /* DNS kinds only */
};

/* What one challenge asks for. */
struct chall_ctx {
    enum ch_type type;
    const struct ident *ident;  /* the authorization's identifier, wildcard label removed */
    const char *token;
    const char *key_auth;       /* token.thumbprint */
    const char *account_url;    /* dns-account-01 needs it for its label */
};

struct solver;

/* A new solver (listening already for the standalone kinds: MC_ERR_IO when the address
 * cannot be bound). */
MC_MUST_CHECK enum mc_err solver_new(const struct solver_config *cfg, struct solver **out);
void solver_free(struct solver *sv); /* stops listeners, removes what is still present */

/* True if sv can answer challenges of type t (http-01 for the HTTP kinds, tls-alpn-01 for
 * ALPN, dns-01 and dns-account-01 for the DNS kinds). */
bool solver_handles(const struct solver *sv, enum ch_type t);
/* The bound port of a standalone solver, 0 for the others. */
uint16_t solver_port(const struct solver *sv);

MC_MUST_CHECK enum mc_err solver_present(struct solver *sv, const struct chall_ctx *c);
/* For DNS kinds with prop.enabled: waits for every presented record (MC_ERR_TIMEOUT, with
 * what each server last answered logged). A no-op for the others. */
MC_MUST_CHECK enum mc_err solver_wait_ready(struct solver *sv, const struct chall_ctx *c);
MC_MUST_CHECK enum mc_err solver_cleanup(struct solver *sv, const struct chall_ctx *c);

/* The dns-01 record: name "_acme-challenge.<ident>." and value base64url(SHA-256(key_auth)),
 * new strings. For dns-account-01 the name is "_<label>._acme-challenge.<ident>." with
 * label the first 10 bytes of SHA-256(account_url) in lowercase base32 without padding
 * (draft-ietf-acme-dns-account-label). */
MC_MUST_CHECK enum mc_err solver_dns_record(const struct chall_ctx *c, char **fqdn,
                                            char **value);

/* Generic entry points, for values that are no ACME challenge (DigiCert CertCentral's DCV
 * random values and AuthKey request tokens, client/dc.h). The same mechanisms, the same
 * validation before anything reaches a record, file, URL or hook.
 *
 * TXT (the DNS kinds; MC_ERR_UNSUPPORTED for the others): fqdn is a DNS name whose labels
 * are letters, digits, '-' or '_' ("_dnsauth.example.com"; a final '.' is optional) and
 * value 1..255 characters of [A-Za-z0-9._~+/=-]; MC_ERR_INVALID otherwise. present adds
 * the value (other values at the name stay), cleanup removes it again (removing what is
 * not there is no failure), wait_ready is the propagation check of struct propagation
 * (MC_OK at once when it is disabled). The hook kind is called with CERTCLI_CHALLENGE
 * "dns-txt" and empty CERTCLI_TOKEN / CERTCLI_KEY_AUTH. */
MC_MUST_CHECK enum mc_err solver_txt_present(struct solver *sv, const char *fqdn,
                                             const char *value);
MC_MUST_CHECK enum mc_err solver_txt_wait_ready(struct solver *sv, const char *fqdn,
                                                const char *value);
MC_MUST_CHECK enum mc_err solver_txt_cleanup(struct solver *sv, const char *fqdn,
                                             const char *value);
/* CNAME (the DNS kinds; MC_ERR_UNSUPPORTED for the others): DigiCert's dns-cname-token
 * DCV wants "_dnsauth.<name>" CNAME "<random value>.dcv.digicert.com". fqdn and target are
 * DNS names as for solver_txt_* (MC_ERR_INVALID otherwise). present sets the one CNAME at
 * fqdn (a name holds one CNAME: a previous one is replaced), cleanup removes it. The
 * management API kind posts /set-cname {"host","target"} and /clear-cname {"host"}
 * (pebble-challtestsrv's calls, dnsmock has them); RFC 2136 adds the CNAME RR and deletes
 * exactly that RR; the hook is called with CERTCLI_CHALLENGE "dns-cname",
 * CERTCLI_CNAME_TARGET the target (CERTCLI_TXT_VALUE holds it too). */
MC_MUST_CHECK enum mc_err solver_cname_present(struct solver *sv, const char *fqdn,
                                               const char *target);
MC_MUST_CHECK enum mc_err solver_cname_cleanup(struct solver *sv, const char *fqdn,
                                               const char *target);
/* Files (the HTTP kinds; MC_ERR_UNSUPPORTED for the others): url_path is a path under
 * "/.well-known/" of 1..4 segments of [A-Za-z0-9._-] none starting with '.' (so never
 * ".."), content 1..4096 bytes of printable ASCII, tab and newlines; MC_ERR_INVALID
 * otherwise. The webroot kind writes WEBROOT/url_path (0644, folders created 0755 and
 * removed again when empty at solver_free); the standalone kind serves
 * /.well-known/pki-validation/FILE only (MC_ERR_UNSUPPORTED for other folders). The same
 * content is served for every Host. */
MC_MUST_CHECK enum mc_err solver_file_present(struct solver *sv, const char *url_path,
                                              const char *content);
MC_MUST_CHECK enum mc_err solver_file_cleanup(struct solver *sv, const char *url_path);

#endif
