/* report.h: conformance reports, shared by mockca (grading a client) and certcli
 * (grading a server), written in three forms from one model: JSON (the model itself),
 * JUnit XML (one testcase per requirement, so CI systems show pass/fail per ID), and a
 * self-contained HTML page (no external CSS, script or font) that lists the requirements
 * and shows the exchange as a sequence of requests and responses with each violation
 * marked next to the exchange that caused it.
 *
 * A report holds requirements (stable ID, RFC section, MUST/SHOULD, one-line text), the
 * findings against them (each attributed to an actor: an account URL and User-Agent, or
 * the server under test) and the exchanges (bounded: bodies truncated to a cap, at most
 * REPORT_MAX_EXCHANGES kept; later ones are counted, not stored). Thread-safe: servers add
 * findings from several workers. Secrets (JWS payloads carrying keys, EAB MACs) are the
 * caller's to redact before adding. */
#ifndef MC_REPORT_H
#define MC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/* Caps on what a report keeps, so that a long-running mockca grading every client in front
 * of it stays within a few MiB (measured: 5000 x 8 KiB held about 20 MiB under load).
 * Findings past their cap are still counted (per requirement and in all); at 20000 they
 * took about 10 MiB, and a client repeating one SHOULD-level slip in every issuance grew
 * mockca by about 0.5 MiB per 10,000 issuances for 200,000 issuances. */
#define REPORT_MAX_EXCHANGES 2000
#define REPORT_MAX_BODY 2048       /* bytes of each body kept in a report */
#define REPORT_MAX_FINDINGS 2000

enum report_level { REPORT_MUST = 1, REPORT_SHOULD };
/* The outcome of one requirement: PASS when it was exercised and never violated, FAIL
 * when violated at least once, SKIP when never exercised. */
enum report_outcome { REPORT_PASS = 1, REPORT_FAIL, REPORT_SKIP };

/* A requirement of the catalog. Strings are static (catalogs are tables in code). */
struct report_req {
    const char *id;        /* stable: "ACME-CLIENT-CT-001", "ACME-SERVER-NONCE-002" */
    const char *rfc;       /* "RFC 8555 6.2" */
    enum report_level level;
    const char *text;      /* "POST bodies carry Content-Type: application/jose+json" */
};

/* One request and its response, as seen on the wire. Headers are "Name: value" lines
 * joined by "\n". Any string may be NULL. */
struct report_exchange {
    int64_t at_ms;         /* when the request arrived / was sent (virtual clock) */
    const char *actor;     /* account URL, or NULL before an account exists */
    const char *user_agent;
    const char *method, *url;
    const char *req_headers, *req_body;
    int status;
    const char *resp_headers, *resp_body;
};

struct report;

/* A new empty report for suite ("acme-client", "acme-server"), the thing graded (target:
 * a directory URL, or a client's command line) and the run's seed; catalog[0..n) are the
 * requirements it grades (borrowed; must outlive the report). NULL on allocation failure. */
struct report *report_new(const char *suite, const char *target, uint64_t seed,
                          const struct report_req *catalog, size_t n);
void report_free(struct report *r); /* NULL ok */

/* Records an exchange (strings copied, bodies truncated to REPORT_MAX_BODY) and returns
 * its index, or -1 when REPORT_MAX_EXCHANGES are kept already (it is still counted). */
long report_add_exchange(struct report *r, const struct report_exchange *x);
/* Whether REPORT_MAX_EXCHANGES are kept already, so that the next exchange is only
 * counted: a caller may then skip building its headers and bodies. NULL: true. */
bool report_exchanges_full(const struct report *r);
/* Marks requirement id as exercised once (so it is PASS unless a finding fails it). */
MC_MUST_CHECK enum mc_err report_exercised(struct report *r, const char *id);
/* Records a violation of requirement id by actor (may be NULL), at exchange index exchange
 * (-1: none), with a one-line detail (copied). MC_ERR_NOT_FOUND for an id not in the
 * catalog; MC_ERR_LIMIT past REPORT_MAX_FINDINGS (counted, not stored). */
MC_MUST_CHECK enum mc_err report_violation(struct report *r, const char *id, const char *actor,
                                           long exchange, const char *detail);

/* Outcome of id, and totals. */
enum report_outcome report_outcome_of(const struct report *r, const char *id);
struct report_totals {
    size_t pass, fail, skip;
    size_t must_fail, should_fail; /* failed requirements by level */
    size_t findings, exchanges;    /* including those counted but not stored */
};
void report_totals(const struct report *r, struct report_totals *out);
/* Sets the run's end time (report_new sets the start), in ms of the clock the caller uses. */
void report_set_times(struct report *r, int64_t started_ms, int64_t finished_ms);

/* The model as JSON: {"suite","target","seed","started","finished","totals":{...},
 * "requirements":[{"id","rfc","level","text","outcome","findings":[{"actor",
 * "exchange","detail"}]}], "exchanges":[{"index","at","actor","user_agent","method",
 * "url","status","request":{"headers","body"},"response":{"headers","body"},
 * "violations":[id...]}]}. New object (caller deletes). */
MC_MUST_CHECK enum mc_err report_to_json(const struct report *r, cJSON **out);
/* Writes each form to path atomically (common/file.h). */
MC_MUST_CHECK enum mc_err report_write_json(const struct report *r, const char *path);
/* JUnit XML: <testsuites><testsuite name=suite tests= failures= skipped=> with one
 * <testcase classname="LEVEL" name="ID: text"> per requirement, <failure message=...>
 * listing its findings, <skipped/> when not exercised. Text XML-escaped. */
MC_MUST_CHECK enum mc_err report_write_junit(const struct report *r, const char *path);
/* The HTML page: a summary, the requirements table (id, RFC section, level, outcome), and
 * the exchanges in order, each with its violations marked (class "violation", the ids
 * linking to the requirement rows, element ids "req-ID" and "x-INDEX"). Everything
 * HTML-escaped; no external resources. */
MC_MUST_CHECK enum mc_err report_write_html(const struct report *r, const char *path);

#endif
