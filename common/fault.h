/* fault.h: the protocol-free half of fault injection, shared by mockca and dnsmock.
 *
 * A rule is a match plus an action. The engine decides *whether* a rule fires for an
 * event; what the action means on the wire (an ACME problem, a CertCentral error, a DNS
 * rcode) is the server's business: the engine stores the action as an opaque, copyable
 * struct fault_action that the server filled in when the rule was added.
 *
 * Determinism: every random draw comes from one seeded PRNG, drawn only when a rule's
 * non-random conditions match, so the same seed and the same sequence of events give the
 * same faults. Thread-safe (one mutex per engine).
 *
 * JSON form of a match (every member optional):
 *   {"target": "*.example.com.", "kind": "TXT", "subject": "acct-1",
 *    "nth": 3, "every": 2, "probability": 0.25, "times": 1,
 *    "from_ms": 0, "until_ms": 0}
 */
#ifndef MC_FAULT_H
#define MC_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/clock.h"
#include "common/err.h"

#define FAULT_MAX_RULES 256
#define FAULT_TEXT_MAX 256

struct fault_match {
    /* Glob on the event's target (an endpoint path, a DNS name): NULL or "*" matches all;
     * "*.suffix" matches any name ending in ".suffix" (not "suffix" itself); "prefix*"
     * matches names beginning with prefix; anything else matches exactly. Case-insensitive. */
    char *target;
    char *kind;         /* exact, case-insensitive (an HTTP method, a qtype); NULL = any */
    char *subject;      /* exact (an account, an API key); NULL = any */
    uint64_t nth;       /* fire only on the nth matching event (1-based); 0 = off */
    uint64_t every;     /* fire on every k-th matching event; 0 = off */
    double probability; /* fire with this probability in (0, 1]; 1 = always */
    uint64_t times;     /* stop firing after this many fires; 0 = no limit */
    int64_t from_ms;    /* clock window [from_ms, until_ms); 0 = open on that side */
    int64_t until_ms;
};

/* What the server does when a rule fires; filled and read by the server only. */
struct fault_action {
    int kind;                        /* server-defined action code */
    int status;                      /* HTTP status or DNS rcode, where the kind uses one */
    int64_t delay_ms;                /* for delays and stalls */
    char type[FAULT_TEXT_MAX];       /* e.g. an ACME problem type or CertCentral code */
    char detail[FAULT_TEXT_MAX];     /* e.g. the problem detail */
    char retry_after[FAULT_TEXT_MAX];/* "5" or an HTTP-date, sent verbatim; "" = none */
};

struct fault_engine;

/* A new engine seeded with seed (0: a seed from the OS, readable with fault_engine_seed).
 * clock may be NULL (real time); it is borrowed. NULL when out of memory. */
struct fault_engine *fault_engine_new(uint64_t seed, const struct mc_clock *clock);
void fault_engine_free(struct fault_engine *e); /* NULL ok */

uint64_t fault_engine_seed(const struct fault_engine *e);
/* Re-seeds and zeroes every rule's counters, so a run can be replayed without a restart. */
void fault_engine_reseed(struct fault_engine *e, uint64_t seed);

/* Parses the JSON form above into *out (caller releases with fault_match_clear).
 * MC_ERR_INVALID (with a message in err, size errn, if err is not NULL) for wrong types,
 * probability outside (0,1], nth together with every, or unknown members. */
MC_MUST_CHECK enum mc_err fault_match_parse(const cJSON *j, struct fault_match *out, char *err,
                                            size_t errn);
void fault_match_clear(struct fault_match *m);

/* Adds a rule at the end of the list. Takes ownership of *m's strings (and zeroes *m);
 * copies *a; duplicates spec (the rule's original JSON, shown by fault_engine_list; may be
 * NULL). MC_ERR_LIMIT past FAULT_MAX_RULES. The new rule's id goes to *id (ids start at 1
 * and are never reused within an engine). */
MC_MUST_CHECK enum mc_err fault_engine_add(struct fault_engine *e, struct fault_match *m,
                                           const struct fault_action *a, const cJSON *spec,
                                           uint64_t *id);
/* MC_ERR_NOT_FOUND if no rule has that id. */
MC_MUST_CHECK enum mc_err fault_engine_remove(struct fault_engine *e, uint64_t id);
void fault_engine_clear(struct fault_engine *e);

/* True when the engine has no rule (or e is NULL): a server may then skip gathering an
 * event's subject. A rule added meanwhile applies from the next event on. */
bool fault_engine_empty(struct fault_engine *e);

/* Offers one event to the rules in order; the first rule that fires wins. Returns true and
 * copies that rule's action into *out (and its id into *rule_id if not NULL) when one
 * fires; false otherwise. target, kind, subject may be NULL (they then match only rules
 * that do not constrain them). */
bool fault_engine_check(struct fault_engine *e, const char *target, const char *kind,
                        const char *subject, struct fault_action *out, uint64_t *rule_id);

/* A new JSON array describing the rules: [{"id", "spec", "matched", "fired"}] plus
 * {"seed"} is available from fault_engine_seed. Caller frees. NULL when out of memory. */
cJSON *fault_engine_list(struct fault_engine *e);

/* The glob rule of fault_match.target, exposed for the servers' own lookups. */
bool fault_glob_match(const char *pattern, const char *s);

#endif
