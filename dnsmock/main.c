/* main.c: the dnsmock binary, a thin shell over dnsmock_start.
 *
 * Option parsing is hand-written rather than getopt_long because it must take two
 * dialects at once: pebble-challtestsrv's Go flags ("-dns01 :8053", "-management=:8055",
 * Go also takes "--dns01"), so that users' CI scripts run unchanged, and GNU long options
 * ("--dns ADDR", "--default-ipv4=IP"). Both spellings go through one table. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/http.h"
#include "common/log.h"
#include "dnsmock/dnsmock.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define MAX_TSIG_KEYS 32

enum opt_id {
    OPT_DNS,
    OPT_MGMT,
    OPT_HTTP01,
    OPT_HTTPS01,
    OPT_TLSALPN01,
    OPT_DOH,
    OPT_DOH_CERT,
    OPT_DOH_KEY,
    OPT_IPV4,
    OPT_IPV6,
    OPT_STRICT,
    OPT_TSIG,
    OPT_UNSIGNED,
    OPT_UDP_THREADS,
    OPT_SEED,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_VERSION,
};

struct opt {
    const char *name;
    enum opt_id id;
    bool has_value;
};

static const struct opt opts[] = {
    /* challtestsrv's Go flags */
    {"dnsserver", OPT_DNS, true},
    {"dns01", OPT_DNS, true},
    {"management", OPT_MGMT, true},
    {"http01", OPT_HTTP01, true},
    {"https01", OPT_HTTPS01, true},
    {"tlsalpn01", OPT_TLSALPN01, true},
    {"doh", OPT_DOH, true},
    {"doh-cert", OPT_DOH_CERT, true},
    {"doh-cert-key", OPT_DOH_KEY, true},
    {"defaultIPv4", OPT_IPV4, true},
    {"defaultIPv6", OPT_IPV6, true},
    /* GNU long options */
    {"dns", OPT_DNS, true},
    {"default-ipv4", OPT_IPV4, true},
    {"default-ipv6", OPT_IPV6, true},
    {"strict", OPT_STRICT, false},
    {"tsig-key", OPT_TSIG, true},
    {"allow-unsigned-updates", OPT_UNSIGNED, false},
    {"udp-threads", OPT_UDP_THREADS, true},
    {"fault-seed", OPT_SEED, true},
    {"log-level", OPT_LOG_LEVEL, true},
    {"help", OPT_HELP, false},
    {"h", OPT_HELP, false},
    {"version", OPT_VERSION, false},
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: dnsmock [OPTIONS]\n"
            "An authoritative DNS server with a pebble-challtestsrv compatible management API,\n"
            "RFC 2136 updates with TSIG, DNS fault injection, http-01 (HTTP and HTTPS) and\n"
            "tls-alpn-01 responders, and DNS over HTTPS.\n"
            "\n"
            "Listeners (ADDR is HOST:PORT, [V6]:PORT or :PORT; \":PORT\" means all interfaces,\n"
            "as Go reads it; port 0 lets the kernel pick; an empty ADDR disables it; a\n"
            "comma-separated list of up to 4 ADDRs starts one listener on each):\n"
            "  --dns ADDR            DNS over UDP and TCP        (default 127.0.0.1:8053)\n"
            "  --management ADDR     management API, plain HTTP  (default 127.0.0.1:8055)\n"
            "  --http01 ADDR         http-01 responder           (default 127.0.0.1:5002)\n"
            "  --https01 ADDR        http-01 responder over TLS  (default 127.0.0.1:5003)\n"
            "  --tlsalpn01 ADDR      tls-alpn-01 responder       (default 127.0.0.1:5001)\n"
            "  --doh ADDR            DNS over HTTPS (RFC 8484) at /dns-query (default: off)\n"
            "  --doh-cert FILE       PEM certificate (chain) for --doh  (with --doh-cert-key)\n"
            "  --doh-cert-key FILE   PEM private key for --doh\n"
            "  The HTTPS listeners use a self-signed P-256 certificate made at start (names\n"
            "  localhost, 127.0.0.1, ::1), as pebble-challtestsrv does; clients skip\n"
            "  verification (curl -k) or give --doh-cert/--doh-cert-key for DoH.\n"
            "DNS data:\n"
            "  --default-ipv4 IP     A answer for names without records (default 127.0.0.1;\n"
            "                        \"\" none)\n"
            "  --default-ipv6 IP     AAAA answer likewise (default ::1; \"\" none)\n"
            "  --strict              strict zones: NXDOMAIN / NODATA with the SOA, REFUSED\n"
            "                        outside configured zones (default: challtestsrv-compatible)\n"
            "RFC 2136 updates:\n"
            "  --tsig-key NAME:ALG:SECRET   a TSIG key (repeatable); ALG:NAME:SECRET, as\n"
            "                        nsupdate -y writes it, works too (ALG starts with hmac-)\n"
            "  --allow-unsigned-updates     accept updates without TSIG\n"
            "Other:\n"
            "  --udp-threads N       UDP worker threads (default: one per core, at most 4)\n"
            "  --fault-seed N        seed for probabilistic fault rules (default: random,\n"
            "                        printed at start)\n"
            "  --log-level LEVEL     error, warn, info (default) or debug; logs go to stderr\n"
            "  --help, --version\n"
            "\n"
            "pebble-challtestsrv's flags are accepted unchanged, as -flag VALUE or -flag=VALUE:\n"
            "  -dnsserver, -dns01 (older name), -management, -http01, -https01, -tlsalpn01,\n"
            "  -doh, -doh-cert, -doh-cert-key, -defaultIPv4, -defaultIPv6.\n"
            "\n"
            "At start, one line per listener goes to stdout with the real port (of the first\n"
            "address of a list; the log on stderr names every address), e.g.\n"
            "  dns 127.0.0.1:8053\n"
            "  management http://127.0.0.1:8055\n"
            "  http01 127.0.0.1:5002\n"
            "  https01 127.0.0.1:5003\n"
            "  tlsalpn01 127.0.0.1:5001\n"
            "  doh https://127.0.0.1:8443/dns-query\n"
            "  fault-seed 1234567\n"
            "then it runs until SIGINT or SIGTERM.\n"
            "\n"
            "Exit status: 0 stopped cleanly (or --help/--version), 1 runtime failure (an\n"
            "address could not be bound, a certificate file could not be read), 2 usage error\n"
            "(including a list of more than 4 addresses).\n");
}

/* The first address of a comma-separated list, trimmed, into buf (size n): the listener
 * the "label host:port" line describes. */
static const char *first_addr(const char *list, char *buf, size_t n)
{
    while (*list == ' ' || *list == ',')
        list++;
    size_t len = strcspn(list, ",");
    while (len > 0 && list[len - 1] == ' ')
        len--;
    if (len >= n)
        len = n - 1;
    memcpy(buf, list, len);
    buf[len] = '\0';
    return buf;
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

/* "NAME:ALG:SECRET" or nsupdate -y's "ALG:NAME:SECRET" (told apart by the "hmac-" prefix
 * of the algorithm) or "NAME:SECRET" (hmac-sha256). Splits s in place. */
static bool parse_tsig(char *s, struct dnsmock_tsig_key *k)
{
    char *a = s;
    char *b = strchr(a, ':');
    if (b == NULL)
        return false;
    *b++ = '\0';
    char *c = strchr(b, ':');
    if (c == NULL) {
        k->name = a;
        k->algorithm = "hmac-sha256";
        k->secret = b;
    } else {
        *c++ = '\0';
        if (strncasecmp(a, "hmac-", 5) == 0) {
            k->algorithm = a;
            k->name = b;
        } else {
            k->name = a;
            k->algorithm = b;
        }
        k->secret = c;
    }
    return k->name[0] != '\0' && k->secret[0] != '\0';
}

/* Prints "label host:port" with a wildcard bind shown as loopback, which is where a
 * local script reaches it. */
static void print_listener(const char *label, const char *prefix, const char *list, uint16_t port)
{
    char host[64] = "", addr[96];
    uint16_t ignored;
    first_addr(list, addr, sizeof(addr));
    if (http_split_hostport(addr, host, sizeof(host), &ignored) != MC_OK || host[0] == '\0' ||
        strcmp(host, "0.0.0.0") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    else if (strcmp(host, "::") == 0)
        snprintf(host, sizeof(host), "::1");
    if (strchr(host, ':') != NULL)
        printf("%s %s[%s]:%u\n", label, prefix, host, (unsigned)port);
    else
        printf("%s %s%s:%u\n", label, prefix, host, (unsigned)port);
}

int main(int argc, char **argv)
{
    struct dnsmock_config cfg;
    struct dnsmock_tsig_key keys[MAX_TSIG_KEYS];
    size_t nkeys = 0;
    struct dnsmock *d = NULL;
    sigset_t sigs;
    int rc = 0;

    dnsmock_config_init(&cfg);
    log_set_level(LOGL_INFO);

    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') {
            fprintf(stderr, "dnsmock: unexpected argument \"%s\" (see --help)\n", arg);
            return EXIT_USAGE;
        }
        char *name = arg + (arg[1] == '-' ? 2 : 1);
        char *value = NULL;
        char *eq = strchr(name, '=');
        size_t namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);
        if (eq != NULL)
            value = eq + 1;
        const struct opt *o = NULL;
        for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
            if (strlen(opts[k].name) == namelen && strncmp(opts[k].name, name, namelen) == 0) {
                o = &opts[k];
                break;
            }
        }
        if (o == NULL) {
            fprintf(stderr, "dnsmock: unknown option \"%s\" (see --help)\n", arg);
            return EXIT_USAGE;
        }
        bool flag = true;
        if (!o->has_value) {
            if (value != NULL && !parse_bool(value, &flag)) {
                fprintf(stderr, "dnsmock: %.*s takes no value or true/false\n", (int)namelen, name);
                return EXIT_USAGE;
            }
        } else if (value == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "dnsmock: %s needs a value\n", arg);
                return EXIT_USAGE;
            }
            value = argv[++i];
        }
        uint64_t n;
        switch (o->id) {
        case OPT_DNS:
            cfg.dns_addr = value;
            break;
        case OPT_MGMT:
            cfg.mgmt_addr = value;
            break;
        case OPT_HTTP01:
            cfg.http01_addr = value;
            break;
        case OPT_TLSALPN01:
            cfg.tlsalpn01_addr = value;
            break;
        case OPT_HTTPS01:
            cfg.https01_addr = value;
            break;
        case OPT_DOH:
            cfg.doh_addr = value;
            break;
        case OPT_DOH_CERT:
            cfg.doh_cert_pem = value;
            break;
        case OPT_DOH_KEY:
            cfg.doh_key_pem = value;
            break;
        case OPT_IPV4:
            cfg.default_ipv4 = value;
            break;
        case OPT_IPV6:
            cfg.default_ipv6 = value;
            break;
        case OPT_STRICT:
            cfg.strict = flag;
            break;
        case OPT_UNSIGNED:
            cfg.allow_unsigned_updates = flag;
            break;
        case OPT_TSIG:
            if (nkeys == MAX_TSIG_KEYS) {
                fprintf(stderr, "dnsmock: at most %d --tsig-key options\n", MAX_TSIG_KEYS);
                return EXIT_USAGE;
            }
            if (!parse_tsig(value, &keys[nkeys])) {
                fprintf(stderr, "dnsmock: --tsig-key wants NAME:ALG:SECRET\n");
                return EXIT_USAGE;
            }
            nkeys++;
            break;
        case OPT_UDP_THREADS:
            if (!parse_u64(value, 64, &n) || n == 0) {
                fprintf(stderr, "dnsmock: --udp-threads wants a number from 1 to 64\n");
                return EXIT_USAGE;
            }
            cfg.udp_threads = (unsigned)n;
            break;
        case OPT_SEED:
            if (!parse_u64(value, UINT64_MAX, &n) || n == 0) {
                fprintf(stderr, "dnsmock: --fault-seed wants a positive integer\n");
                return EXIT_USAGE;
            }
            cfg.fault_seed = n;
            break;
        case OPT_LOG_LEVEL: {
            int lvl = log_level_parse(value);
            if (lvl < 0) {
                fprintf(stderr, "dnsmock: --log-level wants error, warn, info or debug\n");
                return EXIT_USAGE;
            }
            log_set_level((enum log_level)lvl);
            break;
        }
        case OPT_HELP:
            usage(stdout);
            return 0;
        case OPT_VERSION:
            printf("dnsmock %s\n", MOCKCA_VERSION);
            return 0;
        }
    }
    cfg.tsig_keys = keys;
    cfg.ntsig_keys = nkeys;

    /* Block the stop signals before any thread exists, so every thread inherits the mask
     * and only sigwait below receives them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    enum mc_err err = dnsmock_start(&cfg, &d);
    if (err != MC_OK) {
        fprintf(stderr, "dnsmock: cannot start: %s\n", mc_strerror(err));
        return err == MC_ERR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    }
    if (dnsmock_dns_port(d) != 0)
        printf("dns %s\n", dnsmock_addr(d));
    if (dnsmock_mgmt_url(d)[0] != '\0')
        printf("management %s\n", dnsmock_mgmt_url(d));
    if (dnsmock_http01_port(d) != 0)
        print_listener("http01", "", cfg.http01_addr, dnsmock_http01_port(d));
    if (dnsmock_https01_port(d) != 0)
        print_listener("https01", "", cfg.https01_addr, dnsmock_https01_port(d));
    if (dnsmock_tlsalpn01_port(d) != 0)
        print_listener("tlsalpn01", "", cfg.tlsalpn01_addr, dnsmock_tlsalpn01_port(d));
    if (dnsmock_doh_url(d)[0] != '\0')
        printf("doh %s\n", dnsmock_doh_url(d));
    printf("fault-seed %" PRIu64 "\n", dnsmock_fault_seed(d));
    fflush(stdout);

    int sig = 0;
    if (sigwait(&sigs, &sig) != 0)
        rc = EXIT_RUNTIME;
    log_msg(LOGL_INFO, "dnsmock.stop", "signal=%d", sig);
    dnsmock_stop(d);
    return rc;
}
