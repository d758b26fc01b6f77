/* main.c: certcli, the ACME client's command line. Parses the global options (up to the
 * subcommand: getopt_long with "+"), sets up logging, and hands the rest of argv to the
 * subcommand (cmd.h). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "client/cmd.h"
#include "client/cmd_common.h"
#include "common/clock.h"
#include "common/log.h"

#ifndef MOCKCA_VERSION
#define MOCKCA_VERSION "0"
#endif

#define DEFAULT_SERVER "https://127.0.0.1:14000/dir"

const struct cli_cmd cli_cmds[] = {
    {"account", "register, find, show, update, roll over or deactivate the ACME account",
     cmd_account},
    {"issue", "get a certificate (alias: certonly)", cmd_issue},
    {"renew", "renew the certificates that are due (lifetime, --days or ARI)", cmd_renew},
    {"revoke", "revoke a certificate, signed by the account or by the certificate's key",
     cmd_revoke},
    {"directory", "show the CA's directory, its terms, profiles and metadata", cmd_directory},
    {"bench", "load generator: concurrent issuances, throughput and latency", cmd_bench},
    {"certcentral", "DigiCert CertCentral API v2: orders, DCV, downloads, instant DV "
                    "(alias: cc)",
     cmd_certcentral},
    {"conformance", "grade an ACME server on RFC 8555's server-side requirements (reports as "
                    "JSON, JUnit XML, HTML)",
     cmd_conformance},
    {NULL, NULL, NULL},
};

static const char *const aliases[][2] = {
    {"certonly", "issue"},
    {"cc", "certcentral"},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: certcli [GLOBAL OPTIONS] COMMAND [OPTIONS]\n"
               "       certcli help COMMAND\n"
               "An ACME (RFC 8555) client: accounts, certificates with http-01, tls-alpn-01 and\n"
               "dns-01, renewal with ARI (RFC 9773), revocation; and a DigiCert CertCentral\n"
               "client.\n"
               "\n"
               "Commands:\n");
    for (const struct cli_cmd *c = cli_cmds; c->name != NULL; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->summary);
    fprintf(f, "\n"
               "Global options (before the command):\n"
               "  --server URL      the ACME directory (default $CERTCLI_SERVER, else\n"
               "                    " DEFAULT_SERVER ")\n"
               "  --dir DIR         state: accounts/ and certs/ (default $CERTCLI_DIR, else\n"
               "                    $HOME/.certcli)\n"
               "  --ca-bundle FILE  trust these roots for the server's TLS certificate (default\n"
               "                    $SSL_CERT_FILE, $CURL_CA_BUNDLE, else the system store)\n"
               "  --insecure        do not verify the server's TLS certificate\n"
               "  --json            print one JSON object with the result on stdout\n"
               "  -v, -vv           more log output (info, debug); -q: errors only, no progress\n"
               "  --seed N          seed of the retry jitter (reproducible runs)\n"
               "  --now TIME        act as if it were TIME (RFC 3339) when deciding what is due:\n"
               "                    for tests against a CA on a virtual clock (mockca /clock)\n"
               "  -h, --help        this text; `certcli COMMAND --help` for a command's options\n"
               "  -V, --version     the version\n"
               "\n"
               "Exit status:\n"
               "  0  done: issued, renewed, revoked, changed\n"
               "  1  failed: the server refused, a check failed, a transport error\n"
               "  2  bad command line\n"
               "  3  nothing to do: not due for renewal, already in that state\n"
               "Messages for people go to stderr; with --json, stdout holds one JSON object.\n");
}

static const struct cli_cmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (strcmp(name, aliases[i][0]) == 0)
            name = aliases[i][1];
    for (const struct cli_cmd *c = cli_cmds; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

__attribute__((format(printf, 1, 2))) static int bad_global(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "certcli: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'certcli --help'.\n");
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    enum { OPT_SERVER = 1000, OPT_DIR, OPT_CA, OPT_INSECURE, OPT_JSON, OPT_SEED, OPT_NOW };
    static const struct option opts[] = {
        {"server", required_argument, NULL, OPT_SERVER},
        {"dir", required_argument, NULL, OPT_DIR},
        {"ca-bundle", required_argument, NULL, OPT_CA},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"json", no_argument, NULL, OPT_JSON},
        {"seed", required_argument, NULL, OPT_SEED},
        {"now", required_argument, NULL, OPT_NOW},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct cli_globals g;
    char *home_dir = NULL;
    const struct cli_cmd *cmd;
    bool quiet = false;
    int rc, c;

    memset(&g, 0, sizeof(g));
    g.server = getenv("CERTCLI_SERVER");
    g.state_dir = getenv("CERTCLI_DIR");
    opterr = 0;
    /* "+": stop at the first non-option, the subcommand, so its options are its own. */
    for (;;) {
        c = getopt_long(argc, argv, "+:vqhV", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case OPT_SERVER:
            g.server = optarg;
            break;
        case OPT_DIR:
            g.state_dir = optarg;
            break;
        case OPT_CA:
            g.ca_bundle = optarg;
            break;
        case OPT_INSECURE:
            g.insecure = true;
            break;
        case OPT_JSON:
            g.json = true;
            break;
        case OPT_SEED: {
            char *end = NULL;
            unsigned long long v;
            if (optarg[0] < '0' || optarg[0] > '9')
                return bad_global("--seed wants a non-negative number, not '%s'", optarg);
            v = strtoull(optarg, &end, 10);
            if (end == optarg || *end != '\0')
                return bad_global("--seed wants a non-negative number, not '%s'", optarg);
            g.seed = (uint64_t)v;
            break;
        }
        case OPT_NOW: {
            int64_t t = 0;
            if (cli_parse_rfc3339(optarg, &t) != MC_OK)
                return bad_global("--now wants an RFC 3339 time, not '%s'", optarg);
            g.now_offset = t - clock_now(NULL);
            break;
        }
        case 'v':
            if (g.verbosity < 2)
                g.verbosity++;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            return CLI_DONE;
        case 'V':
            printf("certcli %s\n", MOCKCA_VERSION);
            return CLI_DONE;
        case ':':
            return bad_global("option '%s' needs a value", argv[optind - 1]);
        default:
            return bad_global("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (quiet)
        g.verbosity = -1;
    if (optind >= argc) {
        fprintf(stderr, "certcli: no command given\n\n");
        usage(stderr);
        return CLI_USAGE;
    }

    /* `certcli help [COMMAND]` is the same as `certcli [COMMAND] --help`. */
    if (strcmp(argv[optind], "help") == 0) {
        char *hargv[3];
        if (optind + 1 >= argc) {
            usage(stdout);
            return CLI_DONE;
        }
        if (optind + 2 < argc)
            return bad_global("help takes one command name, not '%s'", argv[optind + 2]);
        cmd = find_cmd(argv[optind + 1]);
        if (cmd == NULL)
            return bad_global("no command '%s'", argv[optind + 1]);
        hargv[0] = (char *)cmd->name;
        hargv[1] = "--help";
        hargv[2] = NULL;
        optind = 0;
        return cmd->run(2, hargv, &g);
    }
    cmd = find_cmd(argv[optind]);
    if (cmd == NULL)
        return bad_global("no command '%s'", argv[optind]);

    if (g.server == NULL || g.server[0] == '\0')
        g.server = DEFAULT_SERVER;
    if (g.state_dir == NULL || g.state_dir[0] == '\0') {
        const char *home = getenv("HOME");
        if (home == NULL || home[0] == '\0')
            home = ".";
        if (asprintf(&home_dir, "%s/.certcli", home) < 0) {
            fprintf(stderr, "certcli: out of memory\n");
            return CLI_FAILED;
        }
        g.state_dir = home_dir;
    }
    /* The log is for diagnosis: warnings by default, -v info, -vv debug, -q errors. */
    log_set_level(g.verbosity < 0    ? LOGL_ERROR
                  : g.verbosity == 0 ? LOGL_WARN
                  : g.verbosity == 1 ? LOGL_INFO
                                     : LOGL_DEBUG);
    log_set_stream(stderr);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "certcli: libcurl failed to initialize\n");
        free(home_dir);
        return CLI_FAILED;
    }
    /* The subcommand parses argv[optind..] with getopt_long from scratch: argv[0] is its
     * name, and optind 0 makes glibc reset its state. */
    {
        int sub = optind;
        optind = 0;
        rc = cmd->run(argc - sub, argv + sub, &g);
    }
    curl_global_cleanup();
    free(home_dir);
    return rc;
}
