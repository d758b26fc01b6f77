/* cmd_conformance.c: `certcli conformance`: grades an ACME server on RFC 8555's server-side
 * requirements (client/srvconf.h) and writes the report as JSON, JUnit XML and HTML. */
#include <stdio.h>
#include <string.h>

#include "client/cmd_common.h"
#include "client/srvconf.h"
#include "common/log.h"

static const char help[] =
    "Usage: certcli [GLOBAL OPTIONS] conformance [--server URL] [--ca-bundle FILE]\n"
    "         (--http-port N [--http-address ADDR] | --skip-issuance)\n"
    "         [--report-json FILE] [--report-junit FILE] [--report-html FILE]\n"
    "         [--identifier NAME] [--poll-timeout SECONDS] [--strict-should]\n"
    "Runs a scripted ACME exchange against the server and grades it on RFC 8555's\n"
    "server-side requirements: the directory, newNonce, Replay-Nonce and Link headers,\n"
    "Location, status codes, problem documents, refusal of malformed requests (nonces,\n"
    "Content-Type, url, kid, alg none and HS256, signatures, POST-as-GET), and the state\n"
    "machine from a new order through http-01 to a certificate, revocation and account\n"
    "deactivation. Every requirement has a stable ID (ACME-SERVER-...).\n"
    "\n"
    "  --server URL          the directory (also a global option)\n"
    "  --ca-bundle FILE      trust these roots for the server's TLS (also global)\n"
    "  --insecure            do not verify the server's TLS certificate (also global)\n"
    "  --http-port N         answer http-01 on this port (the one the server validates on)\n"
    "  --http-address ADDR   where the http-01 responder listens (default 0.0.0.0)\n"
    "  --skip-issuance       stop before the steps that need a validation\n"
    "  --identifier NAME     the DNS name ordered (default conformance-RANDOM.example.com;\n"
    "                        the server must resolve it to this machine for http-01)\n"
    "  --poll-timeout S      the longest wait for one state change (default 60)\n"
    "  --report-json FILE    the report as JSON\n"
    "  --report-junit FILE   the report as JUnit XML (one testcase per requirement)\n"
    "  --report-html FILE    the report as a self-contained HTML page\n"
    "  --strict-should       a failed SHOULD fails the run too\n"
    "With --json: {\"result\": \"pass\"|\"fail\", \"server\", \"totals\", \"failed\": [{id, "
    "level}]}.\n"
    "Exit status: 0 no MUST failed (nor a SHOULD with --strict-should), 1 a requirement\n"
    "failed or the server could not be reached, 2 bad usage.\n";

/* Writes the reports asked for; false (printed) if one could not be written. */
static bool write_reports(const struct report *r, const char *json, const char *junit,
                          const char *html)
{
    bool ok = true;
    struct {
        const char *path;
        enum mc_err (*fn)(const struct report *, const char *);
        const char *what;
    } forms[] = {
        {json, report_write_json, "JSON"},
        {junit, report_write_junit, "JUnit"},
        {html, report_write_html, "HTML"},
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        enum mc_err err;
        if (forms[i].path == NULL)
            continue;
        err = forms[i].fn(r, forms[i].path);
        if (err != MC_OK) {
            fprintf(stderr, "certcli conformance: cannot write the %s report %s: %s\n",
                    forms[i].what, forms[i].path, mc_strerror(err));
            ok = false;
        }
    }
    return ok;
}

int cmd_conformance(int argc, char **argv, const struct cli_globals *g)
{
    enum {
        OPT_SERVER = CLI_OPT_LOCAL,
        OPT_CA,
        OPT_INSECURE,
        OPT_HTTP_PORT,
        OPT_HTTP_ADDR,
        OPT_SKIP,
        OPT_IDENT,
        OPT_POLL,
        OPT_RJSON,
        OPT_RJUNIT,
        OPT_RHTML,
        OPT_STRICT,
    };
    static const struct option opts[] = {
        {"server", required_argument, NULL, OPT_SERVER},
        {"ca-bundle", required_argument, NULL, OPT_CA},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"http-port", required_argument, NULL, OPT_HTTP_PORT},
        {"http-address", required_argument, NULL, OPT_HTTP_ADDR},
        {"skip-issuance", no_argument, NULL, OPT_SKIP},
        {"identifier", required_argument, NULL, OPT_IDENT},
        {"poll-timeout", required_argument, NULL, OPT_POLL},
        {"report-json", required_argument, NULL, OPT_RJSON},
        {"report-junit", required_argument, NULL, OPT_RJUNIT},
        {"report-html", required_argument, NULL, OPT_RHTML},
        {"strict-should", no_argument, NULL, OPT_STRICT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sc_opts o;
    struct report *r = NULL;
    const char *rjson = NULL, *rjunit = NULL, *rhtml = NULL;
    bool strict = false, skip = false;
    struct report_totals t;
    const struct report_req *cat;
    size_t n;
    enum mc_err err;
    int rc = CLI_FAILED, c;

    sc_opts_init(&o);
    o.directory_url = g->server;
    o.ca_bundle = g->ca_bundle;
    o.insecure = g->insecure;
    o.seed = g->seed;
    opterr = 0;
    for (;;) {
        long v;
        c = getopt_long(argc, argv, ":h", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'h':
            fputs(help, stdout);
            return CLI_DONE;
        case OPT_SERVER:
            o.directory_url = optarg;
            break;
        case OPT_CA:
            o.ca_bundle = optarg;
            break;
        case OPT_INSECURE:
            o.insecure = true;
            break;
        case OPT_HTTP_PORT:
            if (cli_parse_long(optarg, 0, 65535, &v) != MC_OK)
                return cli_usage("conformance", "--http-port wants 0..65535, not '%s'", optarg);
            o.http_port = v;
            break;
        case OPT_HTTP_ADDR:
            o.http_address = optarg;
            break;
        case OPT_SKIP:
            skip = true;
            break;
        case OPT_IDENT:
            o.identifier = optarg;
            break;
        case OPT_POLL:
            if (cli_parse_long(optarg, 1, 3600, &v) != MC_OK)
                return cli_usage("conformance", "--poll-timeout wants 1..3600, not '%s'", optarg);
            o.poll_timeout_s = v;
            break;
        case OPT_RJSON:
            rjson = optarg;
            break;
        case OPT_RJUNIT:
            rjunit = optarg;
            break;
        case OPT_RHTML:
            rhtml = optarg;
            break;
        case OPT_STRICT:
            strict = true;
            break;
        default:
            return cli_bad_option("conformance", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage("conformance", "unexpected argument '%s'", argv[optind]);
    if (skip && o.http_port >= 0)
        return cli_usage("conformance", "--http-port and --skip-issuance exclude each other");
    if (!skip && o.http_port < 0)
        return cli_usage("conformance", "--http-port N (for http-01) or --skip-issuance, please");
    if (o.identifier != NULL) {
        struct ident_list il = {0};
        bool ok = ident_list_add(&il, IDENT_DNS, o.identifier) == MC_OK &&
                  strchr(o.identifier, '*') == NULL;
        ident_list_free(&il);
        if (!ok)
            return cli_usage("conformance", "--identifier '%s' is not a DNS name", o.identifier);
    }
    o.skip_issuance = skip;

    err = sc_run(&o, &r);
    if (r == NULL) {
        fprintf(stderr, "certcli conformance: %s\n", mc_strerror(err));
        return CLI_FAILED;
    }
    if (err != MC_OK)
        fprintf(stderr, "certcli conformance: the run was cut short: %s (see the report)\n",
                mc_strerror(err));
    report_totals(r, &t);
    cat = sc_catalog(&n);
    if (g->json) {
        cJSON *j = cJSON_CreateObject(), *tj, *fj;
        if (j != NULL) {
            cJSON_AddStringToObject(j, "result",
                                    err == MC_OK && sc_passed(r, strict) ? "pass" : "fail");
            cJSON_AddStringToObject(j, "server", o.directory_url);
            tj = cJSON_AddObjectToObject(j, "totals");
            if (tj != NULL) {
                cJSON_AddNumberToObject(tj, "requirements", (double)n);
                cJSON_AddNumberToObject(tj, "pass", (double)t.pass);
                cJSON_AddNumberToObject(tj, "fail", (double)t.fail);
                cJSON_AddNumberToObject(tj, "skip", (double)t.skip);
                cJSON_AddNumberToObject(tj, "must_fail", (double)t.must_fail);
                cJSON_AddNumberToObject(tj, "should_fail", (double)t.should_fail);
            }
            fj = cJSON_AddArrayToObject(j, "failed");
            for (size_t i = 0; fj != NULL && i < n; i++) {
                cJSON *e;
                if (report_outcome_of(r, cat[i].id) != REPORT_FAIL)
                    continue;
                e = cJSON_CreateObject();
                if (e == NULL)
                    break;
                cJSON_AddStringToObject(e, "id", cat[i].id);
                cJSON_AddStringToObject(e, "level",
                                        cat[i].level == REPORT_MUST ? "MUST" : "SHOULD");
                cJSON_AddItemToArray(fj, e);
            }
        }
        cli_json_emit(j);
    } else {
        for (size_t i = 0; i < n; i++) {
            enum report_outcome oc = report_outcome_of(r, cat[i].id);
            if (oc == REPORT_PASS && g->verbosity < 1)
                continue;
            fprintf(stdout, "%-4s %-6s %-22s %s\n",
                    oc == REPORT_PASS   ? "ok"
                    : oc == REPORT_FAIL ? "FAIL"
                                        : "skip",
                    cat[i].level == REPORT_MUST ? "MUST" : "SHOULD", cat[i].id, cat[i].text);
        }
        fprintf(stdout,
                "%zu requirements: %zu passed, %zu failed (%zu MUST, %zu SHOULD), %zu not "
                "exercised; %zu exchanges\n",
                n, t.pass, t.fail, t.must_fail, t.should_fail, t.skip, t.exchanges);
    }
    rc = err == MC_OK && sc_passed(r, strict) ? CLI_DONE : CLI_FAILED;
    if (!write_reports(r, rjson, rjunit, rhtml))
        rc = CLI_FAILED;
    report_free(r);
    return rc;
}
