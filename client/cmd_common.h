/* cmd_common.h: what the certcli subcommands share: option parsing helpers for the option
 * groups several subcommands take (account, solvers, hooks), opening a session and an
 * account from the global options, failure reporting (stderr, and one JSON object on
 * stdout with --json), RFC 3339 times, the lineage metadata and the deploy hook. Part of
 * the certcli binary, not of libcertcli: everything here is about the command line. */
#ifndef CERTCLI_CMD_COMMON_H
#define CERTCLI_CMD_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "client/cmd.h"
#include "client/issue.h"
#include "client/renew.h"
#include "client/session.h"
#include "client/solver.h"
#include "common/csr.h"
#include "common/err.h"

#define CLI_MAX_CONTACTS 16
#define CLI_HOOK_TIMEOUT_DEFAULT 120 /* seconds a deploy hook may run */
#define CLI_META_MAX (256 * 1024)

/* Long-option codes of the shared option groups; subcommands number their own from
 * CLI_OPT_LOCAL so that the two never overlap. */
enum cli_opt {
    CLI_OPT_EMAIL = 256,
    CLI_OPT_CONTACT,
    CLI_OPT_AGREE_TOS,
    CLI_OPT_EAB_KID,
    CLI_OPT_EAB_HMAC,
    CLI_OPT_EAB_ALG,
    CLI_OPT_HTTP,
    CLI_OPT_HTTP_ADDRESS,
    CLI_OPT_WEBROOT,
    CLI_OPT_ALPN,
    CLI_OPT_ALPN_ADDRESS,
    CLI_OPT_DNS_MGMT,
    CLI_OPT_DNS_RFC2136,
    CLI_OPT_TSIG_NAME,
    CLI_OPT_TSIG_ALG,
    CLI_OPT_TSIG_SECRET,
    CLI_OPT_ZONE,
    CLI_OPT_DNS_HOOK,
    CLI_OPT_DNS_HOOK_TIMEOUT,
    CLI_OPT_DNS_RESOLVER,
    CLI_OPT_DNS_AUTH_PORT,
    CLI_OPT_DNS_TIMEOUT,
    CLI_OPT_NO_PROP,
    CLI_OPT_DEPLOY_HOOK,
    CLI_OPT_HOOK_TIMEOUT,
    CLI_OPT_POLL_TIMEOUT,
    CLI_OPT_LOCAL = 512,
};

/* getopt_long entries of the groups, to paste into a subcommand's option table. */
// clang-format off
#define CLI_ACCOUNT_LONGOPTS                                                                   \
    {"email", required_argument, NULL, CLI_OPT_EMAIL},                                         \
    {"contact", required_argument, NULL, CLI_OPT_CONTACT},                                     \
    {"agree-tos", no_argument, NULL, CLI_OPT_AGREE_TOS},                                       \
    {"eab-kid", required_argument, NULL, CLI_OPT_EAB_KID},                                     \
    {"eab-hmac", required_argument, NULL, CLI_OPT_EAB_HMAC},                                   \
    {"eab-alg", required_argument, NULL, CLI_OPT_EAB_ALG}

#define CLI_SOLVER_LONGOPTS                                                                    \
    {"http", required_argument, NULL, CLI_OPT_HTTP},                                           \
    {"http-address", required_argument, NULL, CLI_OPT_HTTP_ADDRESS},                           \
    {"webroot", required_argument, NULL, CLI_OPT_WEBROOT},                                     \
    {"alpn", required_argument, NULL, CLI_OPT_ALPN},                                           \
    {"alpn-address", required_argument, NULL, CLI_OPT_ALPN_ADDRESS},                           \
    {"dns-mgmt", required_argument, NULL, CLI_OPT_DNS_MGMT},                                   \
    {"dns-rfc2136", required_argument, NULL, CLI_OPT_DNS_RFC2136},                             \
    {"tsig-name", required_argument, NULL, CLI_OPT_TSIG_NAME},                                 \
    {"tsig-alg", required_argument, NULL, CLI_OPT_TSIG_ALG},                                   \
    {"tsig-secret", required_argument, NULL, CLI_OPT_TSIG_SECRET},                             \
    {"zone", required_argument, NULL, CLI_OPT_ZONE},                                           \
    {"dns-hook", required_argument, NULL, CLI_OPT_DNS_HOOK},                                   \
    {"dns-hook-timeout", required_argument, NULL, CLI_OPT_DNS_HOOK_TIMEOUT},                   \
    {"dns-resolver", required_argument, NULL, CLI_OPT_DNS_RESOLVER},                           \
    {"dns-auth-port", required_argument, NULL, CLI_OPT_DNS_AUTH_PORT},                         \
    {"dns-timeout", required_argument, NULL, CLI_OPT_DNS_TIMEOUT},                             \
    {"no-propagation-check", no_argument, NULL, CLI_OPT_NO_PROP},                              \
    {"deploy-hook", required_argument, NULL, CLI_OPT_DEPLOY_HOOK},                             \
    {"hook-timeout", required_argument, NULL, CLI_OPT_HOOK_TIMEOUT},                           \
    {"poll-timeout", required_argument, NULL, CLI_OPT_POLL_TIMEOUT}
// clang-format on

/* Help text of the groups (kept next to the parser in cmd_common.c so the two agree). */
extern const char cli_account_help[];
extern const char cli_solver_help[];

/* ---- command-line plumbing ------------------------------------------------------------ */

/* Prints "certcli CMD: MESSAGE" and a pointer to --help on stderr; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The usage error for getopt's '?' or ':' answer (opterr 0, optstring starting with ':'),
 * naming the offending argument; returns CLI_USAGE. */
int cli_bad_option(const char *cmd, int c, char **argv);
/* A human line on stderr unless -q. */
void cli_say(const struct cli_globals *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints obj compactly as one line on stdout and deletes it (NULL: prints nothing). */
void cli_json_emit(cJSON *obj);

/* Strict number parsers for option values: a whole decimal in [min, max]. */
MC_MUST_CHECK enum mc_err cli_parse_long(const char *s, long min, long max, long *out);

/* RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" to Unix seconds (fraction
 * dropped). MC_ERR_INVALID otherwise. */
MC_MUST_CHECK enum mc_err cli_parse_rfc3339(const char *s, int64_t *out);
/* Formats Unix seconds as RFC 3339 UTC into buf (at least 32 bytes); returns buf. */
const char *cli_fmt_time(int64_t secs, char *buf, size_t n);

/* ---- failures ----------------------------------------------------------------------- */

/* Prints "certcli CMD: WHAT: <mc_strerror(err)>" on stderr, and, when s is given (the
 * failing step talked to the server), the server's side: the ACME problem type, detail
 * and subproblems, or the transport error (sess_last_error). Returns a new JSON object
 * {"error": WHAT, "reason": ..., "problem": {"type","detail","status","subproblems"}} for
 * the --json output (NULL when out of memory). */
cJSON *cli_failure(struct sess *s, const char *cmd, const char *what, enum mc_err err);
/* The same, reporting p (when not NULL) rather than the session's last problem: the error
 * document of an authorization or order that became invalid (issue_result.problem). */
cJSON *cli_failure_problem(struct sess *s, const struct sess_problem *p, const char *cmd,
                           const char *what, enum mc_err err);
/* cli_failure, then with --json prints {"result":"failed", "command": CMD, ...} on stdout.
 * Returns CLI_FAILED. */
int cli_fail(const struct cli_globals *g, struct sess *s, const char *cmd, const char *what,
             enum mc_err err);

/* ---- session and account ------------------------------------------------------------ */

/* Opens a session on g->server with the TLS settings and seed of g. CLI_DONE, or
 * CLI_FAILED with the reason printed (and emitted with --json). */
int cli_session_open(const struct cli_globals *g, const char *cmd, struct sess **out);

/* The account options (CLI_ACCOUNT_LONGOPTS). */
struct cli_acct_opts {
    char *contacts[CLI_MAX_CONTACTS]; /* "mailto:..." or as given by --contact; owned */
    size_t n_contacts;
    bool agree_tos;
    const char *eab_kid, *eab_hmac, *eab_alg;
};
void cli_acct_opts_free(struct cli_acct_opts *o); /* frees the contacts; NULL ok */
/* Takes getopt's answer c: 1 when it was an account option (recorded), 0 when it is not
 * one, -1 for a bad value (printed; the caller returns CLI_USAGE). */
int cli_acct_opt(struct cli_acct_opts *o, int c, const char *arg, const char *cmd);
/* Checks the EAB options hang together (kid and hmac both or neither, hmac base64url,
 * alg HS256/HS384/HS512): CLI_DONE or CLI_USAGE (printed). */
int cli_acct_check(const struct cli_acct_opts *o, const char *cmd);

/* newAccount for key with o's contacts, terms agreement and EAB; on success the account
 * (key and kid) is saved in the state dir. Refuses (CLI_USAGE) before sending anything
 * when the directory has termsOfService and --agree-tos was not given, or requires EAB and
 * none was given. *created tells a new account from an existing one (may be NULL).
 * Returns a cli_exit code, the failure printed (not emitted as JSON: *failure gets it
 * when not NULL, a new object). */
int cli_account_register(const struct cli_globals *g, struct sess *s, const char *cmd,
                         const struct cli_acct_opts *o, EVP_PKEY *key, bool *created,
                         cJSON **account, cJSON **failure);
/* Loads the account saved for g->server into s (finding its URL with onlyReturnExisting
 * when only the key was saved). MC_ERR_NOT_FOUND when none is saved; other failures
 * printed. */
MC_MUST_CHECK enum mc_err cli_account_load(const struct cli_globals *g, struct sess *s,
                                           const char *cmd);
/* The folder the account store uses for g->server (DIR/accounts/HOST_PORT), new string. */
MC_MUST_CHECK enum mc_err cli_account_dir(const struct cli_globals *g, char **out);

/* ---- solvers ------------------------------------------------------------------------ */

struct cli_solver_opts {
    long http_port; /* -1: no http-01 standalone */
    const char *http_address;
    const char *webroot;
    long alpn_port; /* -1: no tls-alpn-01 standalone */
    const char *alpn_address;
    const char *dns_mgmt;
    const char *rfc2136;
    const char *tsig_name, *tsig_alg, *tsig_secret, *zone;
    const char *dns_hook;
    long dns_hook_timeout; /* 0: the solver's default */
    const char *dns_resolver;
    long dns_auth_port; /* 0: 53 */
    long dns_timeout;   /* 0: the solver's default */
    bool no_propagation_check;
    const char *deploy_hook;
    long hook_timeout; /* 0: CLI_HOOK_TIMEOUT_DEFAULT */
    long poll_timeout; /* 0: issue_cert's default */
};
void cli_solver_opts_init(struct cli_solver_opts *o);
/* As cli_acct_opt, for CLI_SOLVER_LONGOPTS (solvers, propagation, hooks, polling). */
int cli_solver_opt(struct cli_solver_opts *o, int c, const char *arg, const char *cmd);
/* Checks that the solver options hang together (an option that would be ignored is a
 * surprise later): CLI_DONE or CLI_USAGE (printed). from_meta: renew, where options may
 * complete the solvers meta.json remembers (e.g. a lone --tsig-secret). */
int cli_solver_check(const struct cli_solver_opts *o, const char *cmd, bool from_meta);
/* True when at least one solver (--http, --webroot, --alpn, --dns-*) was chosen. */
bool cli_solver_any(const struct cli_solver_opts *o);
/* Creates the chosen solvers in preference order: http-01 standalone, webroot,
 * tls-alpn-01, then the DNS kinds (management API, RFC 2136, hook). *out is a new array
 * (cli_solvers_free). Failures printed. */
MC_MUST_CHECK enum mc_err cli_solvers_new(const struct cli_solver_opts *o, const char *cmd,
                                          struct solver ***out, size_t *n);
void cli_solvers_free(struct solver **v, size_t n);
/* The solver choice as a JSON object for meta.json, without the TSIG secret; and back.
 * cli_solver_from_json fills o with strings borrowed from j, keeping what o already has
 * for the TSIG secret. */
cJSON *cli_solver_to_json(const struct cli_solver_opts *o);
void cli_solver_from_json(const cJSON *j, struct cli_solver_opts *o);
/* The challenge types the solvers answer, comma separated ("http-01,dns-01"), into buf. */
const char *cli_solver_challenges(const struct cli_solver_opts *o, char *buf, size_t n);

/* ---- lineages ----------------------------------------------------------------------- */

/* The folder of the lineages: DIR/certs, new string. */
MC_MUST_CHECK enum mc_err cli_certs_dir(const struct cli_globals *g, char **out);

/* One certificate to get and store (certcli issue, and each renewal). */
struct cli_order {
    const char *name; /* the lineage */
    const struct ident_list *idents;
    X509_REQ *csr; /* or */
    EVP_PKEY *cert_key;
    bool must_staple;
    const char *profile;
    int64_t not_before, not_after; /* 0: not sent */
    const char *replaces;          /* ARI id of the certificate replaced, or NULL */
    const char *preferred_chain;
    const struct cli_solver_opts *solvers;
};
/* Runs the order with the chosen solvers, asks for the new certificate's ARI window when
 * the CA has renewalInfo, writes the lineage (cert, chain, fullchain, key, meta.json), and
 * runs the deploy hook. *result (new object) gets {"lineage", "path", "identifiers",
 * "serial", "not_before", "not_after", "issuer", "challenge", "ari"...} on success, or
 * the failure object (cli_failure). Returns CLI_DONE or CLI_FAILED (printed). */
int cli_obtain(const struct cli_globals *g, struct sess *s, const char *cmd,
               const struct cli_order *o, cJSON **result);

/* Runs PROGRAM through /bin/sh -c with CERTCLI_LINEAGE (the lineage folder),
 * CERTCLI_LINEAGE_NAME, CERTCLI_DOMAINS (space separated), CERTCLI_CERT, CERTCLI_CHAIN,
 * CERTCLI_FULLCHAIN and CERTCLI_KEY (absent without a key) in its environment, its stdout
 * sent to stderr (so --json output stays one object), killed with its process group after
 * timeout_s. MC_ERR_IO when it cannot start or exits non-zero, MC_ERR_TIMEOUT when killed. */
MC_MUST_CHECK enum mc_err cli_deploy_hook(const char *program, const char *certs_dir,
                                          const char *name, const struct ident_list *ids,
                                          bool has_key, long timeout_s);

/* The identifiers as JSON [{"type","value"}] (NULL when out of memory), and back from
 * meta.json (MC_ERR_INVALID for anything else). */
cJSON *cli_idents_to_json(const struct ident_list *l);
MC_MUST_CHECK enum mc_err cli_idents_from_json(const cJSON *arr, struct ident_list *out);

#endif
