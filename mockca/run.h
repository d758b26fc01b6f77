/* run.h: `mockca run --scenario FILE [--report-dir DIR] [--seed N] [--client NAME]
 * [-- COMMAND ARGS...]`, the scenario runner.
 *
 * It starts mockca (and its embedded dnsmock) in-process on kernel-picked loopback ports,
 * with the scenario's config, env and fault rules, the seed given (or the scenario's, or a
 * fresh one, printed), and the http-01 / tls-alpn-01 validation ports picked free. It
 * writes the trust bundle and roots into a work directory, exports to the command:
 *   ACME_DIRECTORY_URL, MOCKCA_DIRECTORY, CERTCLI_SERVER (the directory URL),
 *   MOCKCA_MGMT, MOCKCA_DNS (HOST:PORT), MOCKCA_DNS_PORT, MOCKCA_DNS_MGMT,
 *   MOCKCA_HTTP_PORT, MOCKCA_TLS_PORT (where the CA validates http-01 / tls-alpn-01),
 *   MOCKCA_TLS_ROOT, MOCKCA_ISSUING_ROOT (files), SSL_CERT_FILE, REQUESTS_CA_BUNDLE,
 *   LEGO_CA_CERTIFICATES, CURL_CA_BUNDLE (the bundle: the listeners' TLS root),
 *   CERTCENTRAL_BASE_URL, DIGICERT_BASE_URL, DIGICERT_API_KEY, MOCKCA_CC_API_KEY,
 *   MOCKCA_WORKDIR (a fresh directory for the client's state), CERTCLI_DIR
 *   (MOCKCA_WORKDIR/certcli), MOCKCA_SEED, and the scenario's env,
 * replaces ${NAME} in the command's arguments by those values (or the process
 * environment's; an unknown name is an error), runs the command in its own process group
 * with stdin from /dev/null and a timeout (SIGTERM to the group, then SIGKILL), records the
 * transcript, judges the expectations and writes the reports.
 *
 * The embedded dnsmock is prepared for loopback clients: no default AAAA (::1, where
 * clients that listen on 127.0.0.1 do not answer), and the zone example.com. with NS
 * ns1.example.com. (whose A is 127.0.0.1: propagation checks that walk NS reach it).
 *
 * Each expectation is one requirement "SCN-<name>-<n>" (n from 1, in the order of the
 * format in scenario.h), plus a last one: the command finished before the timeout. Reports
 * (common/report.h) go to DIR/report.json, report.junit.xml, report.html, with
 * DIR/transcript.jsonl and DIR/client.log (the command's stdout and stderr); without
 * --report-dir the command's output is inherited and the work directory removed. */
#ifndef MOCKCA_RUN_H
#define MOCKCA_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Exit statuses of `mockca run` (and run_scenario's verdicts). */
#define RUN_PASS 0
#define RUN_FAIL 1
#define RUN_ERROR 2 /* usage, a scenario that does not parse, mockca failed to start */
#define RUN_SKIP 3  /* a required capability is missing, or the client is marked skip */

struct run_options {
    const char *scenario_path;
    const char *report_dir;    /* NULL: no reports, output inherited */
    uint64_t seed;             /* 0: the scenario's, else a fresh one */
    const char *client;        /* run client_support[client].command via /bin/sh -c */
    char *const *argv;         /* or this command (NULL-terminated); one of the two */
    int64_t timeout_s;         /* 0: the scenario's */
    size_t transcript_max;     /* bytes; 0: TR_DEFAULT_MAX_BYTES */
    bool quiet;                /* no per-requirement lines on stdout */
    bool keep_workdir;         /* keep the run's work directory (client state, keys) */
};

struct run_result {
    int verdict;           /* RUN_PASS, RUN_FAIL, RUN_SKIP or RUN_ERROR */
    uint64_t seed;
    int exit_code;         /* the command's, -1 when it timed out or was signalled */
    bool timed_out;
    size_t requirements, failed;
    size_t exchanges;      /* recorded */
    char detail[512];      /* why an ERROR or SKIP */
};

/* Runs one scenario as described above. Returns MC_OK when the run was carried out to a
 * verdict (PASS, FAIL or SKIP: see res->verdict), else an error with res->verdict
 * RUN_ERROR and res->detail saying why. */
MC_MUST_CHECK enum mc_err run_scenario(const struct run_options *o, struct run_result *res);

/* The `mockca run ...` command: argv[0] is "run". Returns the exit status above. */
int run_main(int argc, char **argv);

#endif
