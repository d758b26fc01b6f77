/* scenario.h: the scenario file of `mockca run` (fixtures/scenarios, one JSON file each), parsed and
 * validated strictly: an unknown member, a wrong type or a value out of range is an error
 * that names the member by its path ("expect.revoked").
 *
 *   {"name": "http-01",                       [A-Za-z0-9._-], at most 64; required
 *    "description": "...",
 *    "requires": ["acme-faults"],             capabilities (mockca_capabilities); a run
 *                                             without one is SKIP, not PASS
 *    "config": {"pebble": {...}, "certcentral": {...}},   mockca's JSON config (config.h),
 *                                             applied over the runner's defaults
 *    "env": {"NAME": "value"},                exported to the client; PEBBLE_* and MOCKCA_*
 *                                             names also configure mockca (config.h)
 *    "faults": [{"name": "nonce-storm", "server": "acme"|"certcentral"|"dns",
 *                "match": {common/fault.h's JSON form}, "action": {the server's form}}],
 *    "clock": [{"after": "start"|"account"|"order"|"issued"|"revoked", "count": 1,
 *               "advance": "60d" | "90m" | "30s" | "1h" | "500ms", "freeze": true}],
 *    "timeout": 60,                           seconds the command may run (1..3600)
 *    "seed": 42,                              default seed (--seed wins)
 *    "expect": {"issued": [["a.example", "b.example"]],  a valid order with exactly
 *                                             these identifiers, each list once
 *               "revoked": COUNT, "renewed": COUNT (orders with "replaces" that became
 *               valid), "accounts": COUNT (accounts created), "orders": COUNT,
 *               "exit_code": 0, "no_must_violations": true,
 *               "retry_after_respected": true (every request that repeats an earlier
 *               429 or 503 answered with Retry-After (same listener, method and path)
 *               comes no earlier than that Retry-After allowed, less 250 ms and a tenth
 *               of the wait: RFC 8555 section 6.6, RFC 9110 section 10.2.3),
 *               "faults_fired": {"nonce-storm": ">=1"},
 *               "exchanges": [{"listener": "acme", "method": "POST", "path": "/order-plz"
 *                               (glob: "*" any run of characters), "status": 429,
 *                               "problem": "rateLimited" (a suffix of the problem type),
 *                               "count": ">=1"}]},
 *    "client_support": {"certcli": {"command": "shell command with ${VAR}s"},
 *                       "certbot": {"command": "..."}, "uacme": {"skip": "why not"}}}
 *
 * A COUNT is a number (exactly) or a string "N", "==N", ">=N", "<=N", ">N", "<N". */
#ifndef MOCKCA_SCENARIO_H
#define MOCKCA_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

#define SCN_MAX_FILE (256 * 1024)
#define SCN_MAX_NAME 64
#define SCN_MAX_ITEMS 64 /* entries of any list or map */
#define SCN_MAX_STRING 4096

enum scn_op { SCN_EQ = 1, SCN_GE, SCN_LE, SCN_GT, SCN_LT };

struct scn_count {
    enum scn_op op;
    int64_t n;
};

struct scn_fault {
    char *name;
    char *server;  /* "acme", "certcentral" or "dns" */
    cJSON *match;  /* owned; NULL: match everything */
    cJSON *action; /* owned */
};

enum scn_event { SCN_EV_START = 1, SCN_EV_ACCOUNT, SCN_EV_ORDER, SCN_EV_ISSUED, SCN_EV_REVOKED };

struct scn_clock_step {
    enum scn_event after;
    int64_t count;      /* on the count-th such event (1 = the first) */
    int64_t advance_ms; /* may be 0 */
    bool freeze;
};

struct scn_names {
    char **v;
    size_t n;
};

struct scn_fired {
    char *rule;
    struct scn_count count;
};

struct scn_exchange {
    char *listener; /* NULL: any */
    char *method;   /* NULL: any */
    char *path;     /* glob; NULL: any */
    int status;     /* 0: any */
    char *problem;  /* NULL: any */
    struct scn_count count;
};

struct scn_expect {
    struct scn_names *issued;
    size_t n_issued;
    bool has_revoked, has_renewed, has_accounts, has_orders, has_exit_code, has_no_must;
    bool retry_after_respected;
    struct scn_count revoked, renewed, accounts, orders;
    int exit_code;
    bool no_must_violations;
    struct scn_fired *fired;
    size_t n_fired;
    struct scn_exchange *exchanges;
    size_t n_exchanges;
};

struct scn_client {
    char *name;
    char *command; /* NULL when skipped */
    char *skip;    /* the reason, when skipped */
};

struct scenario {
    char *name;
    char *description;
    char **requires;
    size_t n_requires;
    cJSON *config; /* owned; NULL when none */
    char **env_names, **env_values;
    size_t n_env;
    struct scn_fault *faults;
    size_t n_faults;
    struct scn_clock_step *clock;
    size_t n_clock;
    int64_t timeout_s; /* default 60 */
    uint64_t seed;     /* 0: none given */
    struct scn_expect expect;
    struct scn_client *clients;
    size_t n_clients;
};

/* Parses text[0..len) into *out (zeroed first; release with scn_free, also after an
 * error). MC_ERR_INVALID with "path: what is wrong" in err for any deviation from the
 * format above; MC_ERR_TOO_BIG past SCN_MAX_FILE. */
MC_MUST_CHECK enum mc_err scn_parse(const char *text, size_t len, struct scenario *out, char *err,
                                    size_t errn);
/* Reads and parses a file (path prefixed to the message). */
MC_MUST_CHECK enum mc_err scn_load(const char *path, struct scenario *out, char *err, size_t errn);
void scn_free(struct scenario *s); /* NULL ok */

/* Whether value satisfies c. */
bool scn_count_ok(const struct scn_count *c, int64_t value);
/* "==1", ">=2": the count as text into buf. */
const char *scn_count_str(const struct scn_count *c, char *buf, size_t n);
/* "60d", "90m", "30s", "1h", "500ms", "2w" into milliseconds. false otherwise. */
bool scn_parse_duration(const char *s, int64_t *ms);
const char *scn_event_name(enum scn_event e);
/* The client entry of name, or NULL. */
const struct scn_client *scn_client(const struct scenario *s, const char *name);

#endif
