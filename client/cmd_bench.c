/* cmd_bench.c: `certcli bench`, the load generator's command line (client/bench.h). Kept
 * self-contained (it needs none of cmd_common's option groups): options, the run, and the
 * report as text on stderr or one JSON object on stdout. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "client/bench.h"
#include "client/cmd.h"
#include "common/json.h"
#include "common/keys.h"

#define DEFAULT_SERVER "https://127.0.0.1:14000/dir"
#define MAX_COUNT 100000000ULL
#define MAX_DURATION_S (7 * 24 * 3600)

enum {
    OPT_WARMUP = 600,
    OPT_DOMAIN,
    OPT_NAMES,
    OPT_ACCOUNT_KEY,
    OPT_REUSE_KEY,
    OPT_ACCOUNT_PER,
    OPT_HTTP_PORT,
    OPT_HTTP_ADDRESS,
    OPT_POLL_TIMEOUT,
    OPT_JSON,
};

static void usage(FILE *f)
{
    fputs("usage: certcli [global options] bench [options]\n"
          "\n"
          "Runs full ACME issuances (account, newOrder, http-01, finalize, download) from\n"
          "concurrent workers against the --server directory and reports issuances per\n"
          "second and latency percentiles per step. Every worker keeps its own connection\n"
          "and account; one built-in http-01 responder answers for all of them, so the CA\n"
          "must validate http-01 on --http-port and resolve the names under --domain to\n"
          "--http-address (Pebble with pebble-challtestsrv, and mockca, do by default).\n"
          "\n"
          "  -w, --workers N          concurrent workers (default 1, at most 256)\n"
          "  -n, --count N            measured issuances in total (default 10; with -d and\n"
          "                           no -n, none: the duration decides)\n"
          "  -d, --duration SECONDS   start no issuance after this long (fractions allowed)\n"
          "      --warmup N           issuances first, not measured (default 0)\n"
          "      --domain NAME        names are <random>.NAME (default bench.test)\n"
          "      --names N            names per order (default 1, at most 100)\n"
          "  -k, --key-type TYPE      certificate key: ec256 (default), ec384, rsa2048, ...\n"
          "      --account-key-type T account key (default ec256)\n"
          "      --reuse-key          one certificate key per worker (default: a fresh key\n"
          "                           per issuance)\n"
          "      --account-per-issuance  register a new account for every issuance\n"
          "                           (default: one per worker, before the clock starts)\n"
          "      --http-port PORT     the responder's port = the CA's http-01 port\n"
          "                           (default 5002, Pebble's httpPort)\n"
          "      --http-address ADDR  the responder's address (default 127.0.0.1)\n"
          "      --poll-timeout S     per authorization or order poll (default 60)\n"
          "      --json               the report as one JSON object on stdout\n"
          "  -h, --help               this text\n"
          "\n"
          "Exit: 0 all measured issuances succeeded, 1 some failed (or none ran),\n"
          "2 bad command line.\n",
          f);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;

    if (s == NULL || *s == '\0' || *s == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static void print_text(const struct bench_opts *o, const struct bench_result *r)
{
    FILE *f = stderr;

    fprintf(f, "certcli bench: %s\n", o->directory_url);
    fprintf(f, "  %u worker(s), %s certificate keys (%s), %s account key, %u name(s) per "
               "order under %s, account %s\n",
            o->workers, key_type_name(o->cert_key_type),
            o->reuse_cert_key ? "one per worker" : "fresh per issuance",
            key_type_name(o->account_key_type), o->names_per_order, o->domain,
            o->account_per_issuance ? "per issuance" : "per worker");
    if (r->warmup_done > 0)
        fprintf(f, "  warm-up: %" PRIu64 " issuance(s), not measured\n", r->warmup_done);
    fprintf(f, "issuances  %" PRIu64 " ok, %" PRIu64 " failed, in %.3f s: %.2f issuances/s\n",
            r->issuances, r->failures, r->wall_s, r->rate);
    fprintf(f,
            "requests   %" PRIu64 " (%.2f per issuance), %" PRIu64 " badNonce retries, %" PRIu64
            " busy waits, %" PRIu64 " nonce fetches, %" PRIu64 " connections, %" PRIu64
            " response bytes\n",
            r->stats.requests, r->requests_per_issuance, r->stats.bad_nonce_retries,
            r->stats.busy_waits, r->stats.nonce_fetches, r->stats.connections,
            r->bytes_received);
    fprintf(f, "%-10s %8s %9s %9s %9s %9s %9s  (ms)\n", "step", "count", "mean", "p50", "p90",
            "p99", "max");
    for (int i = 0; i < BENCH_NSTEPS; i++) {
        const struct bench_latency *l = &r->step[i];
        fprintf(f, "%-10s %8" PRIu64 " %9.2f %9.2f %9.2f %9.2f %9.2f%s\n",
                bench_step_name((enum bench_step)i), l->count, l->mean_ms, l->p50_ms,
                l->p90_ms, l->p99_ms, l->max_ms,
                l->sampled < l->count ? "  (percentiles of the first samples)" : "");
    }
    if (!o->account_per_issuance)
        fputs("  (account: one per worker, before the clock started; not in total)\n", f);
    if (r->n_fail > 0) {
        fputs("failures by type:\n", f);
        for (size_t i = 0; i < r->n_fail; i++)
            fprintf(f, "  %8" PRIu64 "  %s  e.g. %s\n", r->fail[i].count, r->fail[i].type,
                    r->fail[i].example);
    }
}

int cmd_bench(int argc, char **argv, const struct cli_globals *g)
{
    static const struct option longopts[] = {
        {"workers", required_argument, NULL, 'w'},
        {"count", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"domain", required_argument, NULL, OPT_DOMAIN},
        {"names", required_argument, NULL, OPT_NAMES},
        {"key-type", required_argument, NULL, 'k'},
        {"account-key-type", required_argument, NULL, OPT_ACCOUNT_KEY},
        {"reuse-key", no_argument, NULL, OPT_REUSE_KEY},
        {"account-per-issuance", no_argument, NULL, OPT_ACCOUNT_PER},
        {"http-port", required_argument, NULL, OPT_HTTP_PORT},
        {"http-address", required_argument, NULL, OPT_HTTP_ADDRESS},
        {"poll-timeout", required_argument, NULL, OPT_POLL_TIMEOUT},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bench_opts o;
    struct bench_result r;
    bool json = g->json, count_given = false;
    uint64_t v = 0;
    cJSON *j = NULL;
    char *text = NULL;
    int rc = CLI_FAILED, c;

    memset(&r, 0, sizeof(r));
    bench_opts_init(&o);
    o.directory_url = g->server != NULL ? g->server : DEFAULT_SERVER;
    o.ca_bundle = g->ca_bundle;
    o.insecure = g->insecure;
    o.seed = g->seed;
    optind = 0; /* a fresh getopt scan over the subcommand's argv (GNU: 0 re-initializes) */
    while ((c = getopt_long(argc, argv, "w:n:d:k:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'w':
            if (parse_u64(optarg, 1, BENCH_MAX_WORKERS, &v) != 0)
                goto bad;
            o.workers = (unsigned)v;
            break;
        case 'n':
            if (parse_u64(optarg, 1, MAX_COUNT, &v) != 0)
                goto bad;
            o.count = v;
            count_given = true;
            break;
        case 'd': {
            char *end = NULL;
            errno = 0;
            double s = strtod(optarg, &end);
            if (errno != 0 || end == optarg || *end != '\0' || !(s > 0) || s > MAX_DURATION_S)
                goto bad;
            o.duration_ms = (int64_t)ceil(s * 1000.0);
            break;
        }
        case OPT_WARMUP:
            if (parse_u64(optarg, 0, MAX_COUNT, &v) != 0)
                goto bad;
            o.warmup = v;
            break;
        case OPT_DOMAIN:
            o.domain = optarg;
            break;
        case OPT_NAMES:
            if (parse_u64(optarg, 1, BENCH_MAX_NAMES, &v) != 0)
                goto bad;
            o.names_per_order = (unsigned)v;
            break;
        case 'k':
            if (key_type_parse(optarg, &o.cert_key_type) != MC_OK)
                goto bad;
            break;
        case OPT_ACCOUNT_KEY:
            if (key_type_parse(optarg, &o.account_key_type) != MC_OK)
                goto bad;
            break;
        case OPT_REUSE_KEY:
            o.reuse_cert_key = true;
            break;
        case OPT_ACCOUNT_PER:
            o.account_per_issuance = true;
            break;
        case OPT_HTTP_PORT:
            if (parse_u64(optarg, 1, 65535, &v) != 0)
                goto bad;
            o.http_port = (uint16_t)v;
            break;
        case OPT_HTTP_ADDRESS:
            o.http_address = optarg;
            break;
        case OPT_POLL_TIMEOUT:
            if (parse_u64(optarg, 1, 3600, &v) != 0)
                goto bad;
            o.poll_timeout_s = (long)v;
            break;
        case OPT_JSON:
            json = true;
            break;
        case 'h':
            usage(stdout);
            return CLI_DONE;
        default:
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "certcli bench: unexpected argument '%s'\n", argv[optind]);
        return CLI_USAGE;
    }
    if (o.duration_ms > 0 && !count_given)
        o.count = 0;

    enum mc_err e = bench_run(&o, &r);
    if (e == MC_ERR_INVALID) {
        fputs("certcli bench: invalid options (a domain that makes valid names?)\n", stderr);
        rc = CLI_USAGE;
        goto out;
    }
    if (e != MC_OK) {
        fprintf(stderr, "certcli bench: %s%s\n", mc_strerror(e),
                e == MC_ERR_IO ? " (is --http-port free? ports below 1024 need privileges)"
                               : "");
        goto out;
    }
    if (json) {
        if (bench_result_json(&r, &j) != MC_OK || cJSON_AddStringToObject(
                                                         j, "directory", o.directory_url) ==
                                                         NULL ||
            json_print(j, &text) != MC_OK) {
            fputs("certcli bench: out of memory\n", stderr);
            goto out;
        }
        puts(text);
    } else {
        print_text(&o, &r);
    }
    rc = r.failures == 0 && r.issuances > 0 ? CLI_DONE : CLI_FAILED;
out:
    free(text);
    cJSON_Delete(j);
    bench_result_free(&r);
    return rc;
bad:
    for (const struct option *lo = longopts; lo->name != NULL; lo++)
        if (lo->val == c)
            fprintf(stderr, "certcli bench: bad value '%s' for --%s\n", optarg, lo->name);
    return CLI_USAGE;
}
