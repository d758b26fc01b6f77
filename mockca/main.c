/* main.c: the mockca binary, a thin shell over mockca_start: a drop-in for the `pebble`
 * command, with an embedded dnsmock in place of pebble-challtestsrv.
 *
 * Option parsing is hand-written rather than getopt_long for the reason dnsmock's is: it
 * takes two dialects at once, Pebble's Go flags ("-config FILE", "-dnsserver=HOST:PORT",
 * "-strict", which Go also takes with two dashes) so that CI scripts written for Pebble run
 * unchanged, and GNU long options ("--listen ADDR", "--fault-seed=N"). Both spellings go
 * through one table. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/file.h"
#include "common/log.h"
#include "dnsmock/dnsmock.h"
#include "mockca/config.h"
#include "mockca/mockca.h"
#include "mockca/run.h"
#include "mockca/tdiff.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define MAIN_MAX_CONFIG (1024 * 1024) /* config.c's own cap on a Pebble JSON file */
#define MAIN_MAX_PATH 4096

enum opt_id {
    OPT_CONFIG,
    OPT_DNS_SERVER,
    OPT_STRICT,
    OPT_LISTEN,
    OPT_MGMT,
    OPT_DNS,
    OPT_DNS_MGMT,
    OPT_STATE_DIR,
    OPT_SEED,
    OPT_LOG_LEVEL,
    OPT_TRANSCRIPT,
    OPT_TRANSCRIPT_MAX,
    OPT_HELP,
    OPT_VERSION,
};

struct opt {
    const char *name;
    enum opt_id id;
    bool has_value;
};

static const struct opt opts[] = {
    /* Pebble's Go flags */
    {"config", OPT_CONFIG, true},
    {"dnsserver", OPT_DNS_SERVER, true},
    {"strict", OPT_STRICT, false},
    /* GNU long options */
    {"dns-server", OPT_DNS_SERVER, true},
    {"listen", OPT_LISTEN, true},
    {"management", OPT_MGMT, true},
    {"dns", OPT_DNS, true},
    {"dns-management", OPT_DNS_MGMT, true},
    {"state-dir", OPT_STATE_DIR, true},
    {"fault-seed", OPT_SEED, true},
    {"log-level", OPT_LOG_LEVEL, true},
    {"transcript", OPT_TRANSCRIPT, true},
    {"transcript-max", OPT_TRANSCRIPT_MAX, true},
    {"help", OPT_HELP, false},
    {"h", OPT_HELP, false},
    {"version", OPT_VERSION, false},
};

/* What the command line asked for; applied over the config file and environment. */
struct args {
    const char *config_file;
    const char *dns_server;
    const char *listen;
    const char *mgmt;
    const char *dns;
    const char *dns_mgmt;
    const char *state_dir;
    bool strict_set;
    bool strict;
    uint64_t seed;
    const char *transcript;
    uint64_t transcript_max;
};

static void usage(FILE *f)
{
    fprintf(
        f, "Usage: mockca [OPTIONS]\n"
           "       mockca run --scenario FILE [--report-dir DIR] [--seed N] -- COMMAND...\n"
           "       mockca diff [--json] OLD.jsonl NEW.jsonl\n"
           "(see `mockca run --help` and `mockca diff --help`)\n"
           "A mock ACME v2 certificate authority (RFC 8555) that runs where Pebble runs, with\n"
           "an embedded dnsmock (a pebble-challtestsrv compatible DNS server) for validation,\n"
           "and DigiCert's CertCentral Services API v2 on the same listener under\n"
           "/services/v2/ (same CA and clock).\n"
           "With no options everything starts on the defaults below, on loopback.\n"
           "\n"
           "Listeners (ADDR is HOST:PORT, [V6]:PORT or :PORT; \":PORT\" means all interfaces;\n"
           "port 0 lets the kernel pick, and the real port is printed):\n"
           "  --listen ADDR          ACME over HTTPS; directory at /dir (default 127.0.0.1:14000)\n"
           "  --management ADDR      management API over HTTPS, \"\" disables (default\n"
           "                         127.0.0.1:15000)\n"
           "  --dns ADDR             embedded dnsmock, DNS over UDP and TCP (default\n"
           "                         127.0.0.1:8053)\n"
           "  --dns-management ADDR  embedded dnsmock's challtestsrv API, plain HTTP, \"\"\n"
           "                         disables (default 127.0.0.1:8055)\n"
           "  --dns-server HOST:PORT validate against this DNS server instead; no dnsmock is\n"
           "                         embedded then (Pebble's -dnsserver)\n"
           "Behaviour:\n"
           "  --config FILE          Pebble's JSON config (the object under \"pebble\"; every\n"
           "                         field Pebble reads, plus ours: caaIdentities,\n"
           "                         sweepIntervalSeconds (default 30, 0: no sweeper) and\n"
           "                         rateLimits {\"ordersPerAccount\",\n"
           "                         \"failedValidationsPerIdentifier\", \"accountsPerAddress\"},\n"
           "                         each {\"count\": N, \"windowSeconds\": S}, off by default;\n"
           "                         over a limit: 429 rateLimited with Retry-After); and\n"
           "                         the top-level \"certcentral\" object, next to \"pebble\":\n"
           "                         apiKeys [{\"key\", \"role\": administrator|user|viewer,\n"
           "                         \"accountId\"}], httpPort (fileauth.txt; default the\n"
           "                         ACME httpPort), dcvTimeoutMs, autoApprove, rateLimits\n"
           "                         {\"short\", \"long\"} (default 100/5 s, 1000/180 s),\n"
           "                         maxOrders, retentionSeconds, maxCertDays\n"
           "  --strict               Pebble's strict mode; also refuses ACME POSTs without a\n"
           "                         User-Agent (RFC 8555 section 6.1)\n"
           "  --fault-seed N         seed for every random choice (fault rules, nonce\n"
           "                         rejection, authz reuse, validation sleeps); default\n"
           "                         random, printed at start, so a run can be replayed\n"
           "  --state-dir DIR        where the root files are written (default\n"
           "                         ${TMPDIR:-/tmp}/mockca-PORT, PORT the ACME port)\n"
           "  --log-level LEVEL      error, warn, info (default) or debug; logs go to stderr\n"
           "  --transcript FILE      record every exchange (ACME, CertCentral, management) as\n"
           "                         JSON lines, secrets redacted; `mockca diff` compares two\n"
           "  --transcript-max BYTES bound of the transcript file (default 64 MiB); later\n"
           "                         exchanges are counted, not written\n"
           "  --help, --version\n"
           "\n"
           "Pebble's flags are accepted unchanged, as -flag VALUE or -flag=VALUE: -config,\n"
           "-dnsserver, -strict, -version. Command-line options win over the config file.\n"
           "\n"
           "Pebble's environment variables: PEBBLE_VA_NOSLEEP, PEBBLE_VA_SLEEPTIME,\n"
           "PEBBLE_VA_ALWAYS_VALID (1 or true), PEBBLE_WFE_NONCEREJECT (percent; default 0\n"
           "here, 5 in Pebble), PEBBLE_AUTHZREUSE (percent, default 50),\n"
           "PEBBLE_WFE_ORDERS_PER_PAGE (default 3), PEBBLE_CHAIN_LENGTH (intermediates,\n"
           "default 1), PEBBLE_ALTERNATE_ROOTS (default 0). A bad value is an error here,\n"
           "where Pebble ignores it. Ours: MOCKCA_RATE_ORDERS_PER_ACCOUNT,\n"
           "MOCKCA_RATE_FAILED_VALIDATIONS_PER_IDENTIFIER, MOCKCA_RATE_ACCOUNTS_PER_ADDRESS\n"
           "(COUNT/SECONDS, or 0 for off); MOCKCA_CC_API_KEY (a CertCentral administrator\n"
           "key, sent as X-DC-DEVKEY).\n"
           "\n"
           "Management API (HTTPS, the same certificate as ACME): Pebble's GET /roots/N,\n"
           "/intermediates/N, /root-keys/N, /intermediate-keys/N, /cert-status-by-serial/HEX,\n"
           "POST /set-renewal-info/ {\"Certificate\": PEM, \"ARIResponse\": JSON text};\n"
           "ours: GET /clock, POST /clock {\"set_ms\"|\"advance_ms\": N, \"freeze\"|\"resume\"|\n"
           "\"reset\": true} (the clock every part of mockca and its dnsmock reads), POST\n"
           "/sweep (drop expired and retained-past-retention objects now); CertCentral's\n"
           "POST /cc/api-keys, /cc/email-dcv/approve, /cc/organization/ID/validation,\n"
           "/cc/sweep, GET /cc/emails.\n"
           "\n"
           "TLS: a test root and a certificate for localhost, 127.0.0.1 and ::1 are generated\n"
           "at start (or Pebble's certificate/privateKey are loaded). The test root is written\n"
           "to STATE_DIR/tls-root.pem and the issuing root of the default chain (what issued\n"
           "certificates verify against, also GET /roots/0) to STATE_DIR/issuing-root.pem.\n"
           "\n"
           "At start, one line each goes to stdout, e.g.\n"
           "  directory https://127.0.0.1:14000/dir\n"
           "  certcentral https://127.0.0.1:14000/services/v2/\n"
           "  certcentral-api-key 0V9K...  (32 characters)\n"
           "  management https://127.0.0.1:15000\n"
           "  dns 127.0.0.1:8053\n"
           "  dns-management http://127.0.0.1:8055\n"
           "  tls-root /tmp/mockca-14000/tls-root.pem\n"
           "  issuing-root /tmp/mockca-14000/issuing-root.pem\n"
           "  fault-seed 1234567\n"
           "(no dns-management line with --dns-server or an empty --dns-management; no\n"
           "management line when it is disabled; tls-root \"none\" with a loaded certificate;\n"
           "certcentral-api-key only when no key was configured: an administrator key made\n"
           "for this run)\n"
           "then it runs until SIGINT or SIGTERM.\n"
           "\n"
           "Exit status: 0 stopped cleanly (or --help/--version), 1 runtime failure (an\n"
           "address could not be bound, a certificate or root file could not be read or\n"
           "written), 2 usage or configuration error (unknown option, missing value, a config\n"
           "file or PEBBLE_* variable that does not parse, a bad address).\n");
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;

    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

/* Go's flag package takes a boolean flag as -flag, -flag=true or -flag=false (and 1, 0,
 * t, f). */
static bool parse_bool(const char *s, bool *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcasecmp(s, "t") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcasecmp(s, "f") == 0) {
        *out = false;
        return true;
    }
    return false;
}

/* Parses argv into a. Returns -1 to go on, else the exit status (help, version, usage). */
static int parse_args(int argc, char **argv, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const struct opt *o = NULL;
        const char *value = NULL;
        bool flag = true;

        if (arg[0] != '-' || arg[1] == '\0') {
            fprintf(stderr, "mockca: unexpected argument \"%s\" (see --help)\n", arg);
            return EXIT_USAGE;
        }
        const char *name = arg + (arg[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);
        if (eq != NULL)
            value = eq + 1;
        for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
            if (strlen(opts[k].name) == namelen && strncmp(opts[k].name, name, namelen) == 0) {
                o = &opts[k];
                break;
            }
        }
        if (o == NULL) {
            fprintf(stderr, "mockca: unknown option \"%s\" (see --help)\n", arg);
            return EXIT_USAGE;
        }
        if (!o->has_value) {
            if (value != NULL && !parse_bool(value, &flag)) {
                fprintf(stderr, "mockca: %.*s takes no value or true/false\n", (int)namelen, name);
                return EXIT_USAGE;
            }
        } else if (value == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "mockca: %s needs a value\n", arg);
                return EXIT_USAGE;
            }
            value = argv[++i];
        }
        switch (o->id) {
        case OPT_CONFIG:
            a->config_file = value;
            break;
        case OPT_DNS_SERVER:
            a->dns_server = value;
            break;
        case OPT_STRICT:
            a->strict_set = true;
            a->strict = flag;
            break;
        case OPT_LISTEN:
            a->listen = value;
            break;
        case OPT_MGMT:
            a->mgmt = value;
            break;
        case OPT_DNS:
            a->dns = value;
            break;
        case OPT_DNS_MGMT:
            a->dns_mgmt = value;
            break;
        case OPT_STATE_DIR:
            if (value[0] == '\0' || strlen(value) > MAIN_MAX_PATH / 2) {
                fprintf(stderr, "mockca: --state-dir wants a directory path\n");
                return EXIT_USAGE;
            }
            a->state_dir = value;
            break;
        case OPT_SEED:
            if (!parse_u64(value, UINT64_MAX, &a->seed) || a->seed == 0) {
                fprintf(stderr, "mockca: --fault-seed wants a positive integer\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_LOG_LEVEL: {
            int lvl = log_level_parse(value);
            if (lvl < 0) {
                fprintf(stderr, "mockca: --log-level wants error, warn, info or debug\n");
                return EXIT_USAGE;
            }
            log_set_level((enum log_level)lvl);
            break;
        }
        case OPT_TRANSCRIPT:
            if (value[0] == '\0') {
                fprintf(stderr, "mockca: --transcript wants a file path\n");
                return EXIT_USAGE;
            }
            a->transcript = value;
            break;
        case OPT_TRANSCRIPT_MAX:
            if (!parse_u64(value, UINT64_MAX, &a->transcript_max) || a->transcript_max < 4096) {
                fprintf(stderr, "mockca: --transcript-max wants at least 4096 bytes\n");
                return EXIT_USAGE;
            }
            break;
        case OPT_HELP:
            usage(stdout);
            return 0;
        case OPT_VERSION:
            printf("mockca %s\n", MOCKCA_VERSION);
            return 0;
        }
    }
    return -1;
}

static const char *env_get(const char *name)
{
    return getenv(name);
}

/* Replaces *slot with a copy of v. */
static enum mc_err set_str(char **slot, const char *v)
{
    char *n = strdup(v);

    if (n == NULL)
        return MC_ERR_NOMEM;
    free(*slot);
    *slot = n;
    return MC_OK;
}

/* Builds the configuration: defaults, then the Pebble JSON file, then PEBBLE_* variables,
 * then the command line. Returns -1 to go on, else the exit status. */
static int build_config(const struct args *a, struct mockca_config *cfg)
{
    char err[256] = "";
    char *text = NULL;
    size_t len = 0;
    enum mc_err e;
    int rc = EXIT_USAGE;

    if (mockca_config_init(cfg) != MC_OK) {
        fprintf(stderr, "mockca: out of memory\n");
        return EXIT_RUNTIME;
    }
    if (a->config_file != NULL) {
        e = file_read_all(a->config_file, MAIN_MAX_CONFIG, &text, &len);
        if (e != MC_OK) {
            fprintf(stderr, "mockca: cannot read config %s: %s\n", a->config_file, mc_strerror(e));
            goto out;
        }
        e = mockca_config_apply_json(cfg, text, len, err, sizeof(err));
        if (e != MC_OK) {
            fprintf(stderr, "mockca: config %s: %s\n", a->config_file,
                    err[0] != '\0' ? err : mc_strerror(e));
            goto out;
        }
    }
    e = mockca_config_apply_env(cfg, env_get, err, sizeof(err));
    if (e != MC_OK) {
        fprintf(stderr, "mockca: environment: %s\n", err[0] != '\0' ? err : mc_strerror(e));
        goto out;
    }
    e = MC_OK;
    if (a->listen != NULL)
        e = set_str(&cfg->listen_addr, a->listen);
    if (e == MC_OK && a->mgmt != NULL)
        e = set_str(&cfg->mgmt_addr, a->mgmt);
    if (e == MC_OK && a->dns != NULL)
        e = set_str(&cfg->dns_listen_addr, a->dns);
    if (e == MC_OK && a->dns_mgmt != NULL)
        e = set_str(&cfg->dns_mgmt_addr, a->dns_mgmt);
    if (e == MC_OK && a->dns_server != NULL && a->dns_server[0] != '\0')
        e = set_str(&cfg->dns_server, a->dns_server);
    if (e != MC_OK) {
        fprintf(stderr, "mockca: out of memory\n");
        rc = EXIT_RUNTIME;
        goto out;
    }
    if (a->strict_set)
        cfg->strict = a->strict;
    if (a->seed != 0)
        cfg->fault_seed = a->seed;
    rc = -1;
out:
    free(text);
    if (rc != -1)
        mockca_config_free(cfg);
    return rc;
}

/* The port of "https://HOST:PORT/dir", as text, into buf. */
static void url_port(const char *url, char *buf, size_t n)
{
    const char *host = strstr(url, "://");
    const char *slash, *colon;

    snprintf(buf, n, "%s", "0");
    if (host == NULL)
        return;
    host += 3;
    slash = strchr(host, '/');
    colon = NULL;
    for (const char *p = host; *p != '\0' && p != slash; p++)
        if (*p == ':')
            colon = p;
    if (colon != NULL)
        snprintf(buf, n, "%.*s", (int)(slash != NULL ? slash - colon - 1 : (long)strlen(colon + 1)),
                 colon + 1);
}

/* Writes the TLS root (when generated) and the default chain's issuing root into the state
 * directory and prints their paths. MC_ERR_IO etc. with a message on stderr. */
static enum mc_err write_roots(const struct mockca *m, const char *state_dir)
{
    char dir[MAIN_MAX_PATH], path[MAIN_MAX_PATH + 32], port[16];
    const char *tmp = getenv("TMPDIR");
    const char *tls_root = mockca_tls_root_pem(m);
    char *root = NULL;
    enum mc_err e;

    if (state_dir != NULL) {
        snprintf(dir, sizeof(dir), "%s", state_dir);
    } else {
        url_port(mockca_directory_url(m), port, sizeof(port));
        if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > MAIN_MAX_PATH / 2)
            tmp = "/tmp";
        snprintf(dir, sizeof(dir), "%s/mockca-%s", tmp, port);
    }
    /* 0700: the directory holds what a client trusts; another local user must not swap it. */
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "mockca: cannot create %s: %s\n", dir, strerror(errno));
        return MC_ERR_IO;
    }
    if (tls_root != NULL) {
        snprintf(path, sizeof(path), "%s/tls-root.pem", dir);
        e = file_write_atomic(path, tls_root, strlen(tls_root), 0644);
        if (e != MC_OK) {
            fprintf(stderr, "mockca: cannot write %s: %s\n", path, mc_strerror(e));
            return e;
        }
        printf("tls-root %s\n", path);
    } else {
        printf("tls-root none\n");
    }
    e = mockca_root_pem(m, 0, &root);
    if (e == MC_OK) {
        snprintf(path, sizeof(path), "%s/issuing-root.pem", dir);
        e = file_write_atomic(path, root, strlen(root), 0644);
        if (e != MC_OK)
            fprintf(stderr, "mockca: cannot write %s: %s\n", path, mc_strerror(e));
        else
            printf("issuing-root %s\n", path);
    }
    free(root);
    return e;
}

int main(int argc, char **argv)
{
    struct args a;
    struct mockca_config cfg;
    struct mockca *m = NULL;
    struct dnsmock *d;
    sigset_t sigs;
    int rc, sig = 0;
    enum mc_err e;

    memset(&a, 0, sizeof(a));
    log_set_level(LOGL_INFO);
    /* Subcommands; with none, the Pebble-compatible server as ever. */
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        return run_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "diff") == 0)
        return td_main(argc - 1, argv + 1);
    rc = parse_args(argc, argv, &a);
    if (rc != -1)
        return rc;
    rc = build_config(&a, &cfg);
    if (rc != -1)
        return rc;

    /* Block the stop signals before any thread exists, so every thread inherits the mask
     * and only sigwait below receives them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    e = mockca_start(&cfg, &m); /* takes cfg's members, on failure too */
    if (e != MC_OK) {
        fprintf(stderr, "mockca: cannot start: %s\n", mc_strerror(e));
        return e == MC_ERR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    }
    if (a.transcript != NULL &&
        mockca_transcript_open(m, a.transcript, (size_t)a.transcript_max) != MC_OK) {
        fprintf(stderr, "mockca: cannot write the transcript %s\n", a.transcript);
        mockca_stop(m);
        return EXIT_RUNTIME;
    }
    printf("directory %s\n", mockca_directory_url(m));
    printf("certcentral %s\n", mockca_cc_url(m));
    if (mockca_cc_api_key(m) != NULL)
        printf("certcentral-api-key %s\n", mockca_cc_api_key(m));
    if (mockca_mgmt_url(m)[0] != '\0')
        printf("management %s\n", mockca_mgmt_url(m));
    printf("dns %s\n", mockca_dns_addr(m));
    d = mockca_dnsmock(m);
    if (d != NULL && dnsmock_mgmt_url(d)[0] != '\0')
        printf("dns-management %s\n", dnsmock_mgmt_url(d));
    if (write_roots(m, a.state_dir) != MC_OK) {
        mockca_stop(m);
        return EXIT_RUNTIME;
    }
    printf("fault-seed %" PRIu64 "\n", mockca_fault_seed(m));
    fflush(stdout);

    rc = 0;
    if (sigwait(&sigs, &sig) != 0)
        rc = EXIT_RUNTIME;
    log_msg(LOGL_INFO, "mockca.stop", "signal=%d", sig);
    mockca_stop(m);
    return rc;
}
