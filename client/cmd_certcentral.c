/* cmd_certcentral.c: `certcli certcentral` (alias `cc`): the DigiCert CertCentral Services
 * API v2 from the command line, over dc.h. Each action (order, info, list, cancel, dcv,
 * watch, download, reissue, revoke, request, authkey, token, instant-dv) parses its own
 * options with getopt_long and answers --help; the API key and base URL come before the
 * action. DCV values and request tokens are placed with certcli's solvers (solver.h's
 * generic TXT and file entry points). Exit codes are cmd.h's. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cmd_common.h"
#include <openssl/crypto.h>

#include "client/dc.h"
#include "common/clock.h"
#include "common/csr.h"
#include "common/json.h"
#include "common/file.h"
#include "common/keys.h"
#include "common/pem.h"

#define CC_MAX_LIST 64 /* repeated options (names, emails, OUs) kept per command */

static const char help[] =
    "Usage: certcli [GLOBAL OPTIONS] certcentral [--api-key KEY | --api-key-file FILE]\n"
    "                [--base-url URL] ACTION [ACTION OPTIONS]\n"
    "The DigiCert CertCentral Services API v2 (alias: certcli cc).\n"
    "  --api-key KEY        the API key (X-DC-DEVKEY); default $DIGICERT_API_KEY\n"
    "  --api-key-file FILE  read the API key from FILE (keeps it out of `ps`)\n"
    "  --base-url URL       default $DIGICERT_BASE_URL, else\n"
    "                       https://www.digicert.com/services/v2/ (mockca: https://HOST:PORT/services/v2/)\n"
    "Actions (each takes --help):\n"
    "  order PRODUCT        place an order (every parameter of the API)\n"
    "  info ORDER           show an order\n"
    "  list                 list orders (filters, paging)\n"
    "  cancel ORDER         cancel a pending order\n"
    "  dcv show|place|check|method|resend|status|clean ORDER\n"
    "                       domain control validation: the random value, placing it with a\n"
    "                       DNS solver or a webroot, check-dcv, method changes, emails\n"
    "  watch ORDER          poll status changes until the order is issued (or --status)\n"
    "  download             download a certificate in any format\n"
    "  reissue ORDER        reissue with a new CSR or names\n"
    "  revoke               revoke a certificate or an order's certificates\n"
    "  request approve|reject|show ID | list [STATUS]\n"
    "                       act on a request (a revocation or reissue waiting for approval)\n"
    "  org list|show|create|validation\n"
    "                       organizations and their validation (OV/EV)\n"
    "  domain list|show|create|validate|token|method\n"
    "                       domains and their DCV (prevalidation)\n"
    "  authkey create|show|list|delete\n"
    "  token                compute an AuthKey request token for a CSR\n"
    "  instant-dv           instant DV issuance: token computed and placed, order placed,\n"
    "                       chain saved\n"
    "--json prints one JSON object on stdout. Exit status: 0 done, 1 failed (the CertCentral\n"
    "error code and message on stderr), 2 bad usage, 3 nothing to do.\n";

struct ccx {
    const struct cli_globals *g;
    const char *api_key;
    char *api_key_owned;
    const char *base_url;
    struct dc_client *c;
    char cmd[64]; /* "certcentral ACTION" */
};

/* ---- shared plumbing -------------------------------------------------------------------- */

/* The failure on stderr (with the CertCentral codes when the server refused) and, with
 * --json, {"result":"failed","command","error","reason","status","errors":[...]}. */
static int cc_fail(struct ccx *x, const char *what, enum mc_err err)
{
    const struct dc_error *e = x->c != NULL && err == MC_ERR_PROBLEM ? dc_last_error(x->c) : NULL;
    const char *msg = x->c != NULL ? dc_last_message(x->c) : NULL;

    fprintf(stderr, "certcli %s: %s: %s", x->cmd, what, mc_strerror(err));
    if (msg != NULL && strcmp(msg, "no error") != 0)
        fprintf(stderr, ": %s", msg);
    fputc('\n', stderr);
    if (x->g->json) {
        cJSON *j = cJSON_CreateObject();
        if (j != NULL) {
            cJSON_AddStringToObject(j, "result", "failed");
            cJSON_AddStringToObject(j, "command", x->cmd);
            cJSON_AddStringToObject(j, "error", what);
            cJSON_AddStringToObject(j, "reason", mc_strerror(err));
            if (msg != NULL && strcmp(msg, "no error") != 0)
                cJSON_AddStringToObject(j, "detail", msg);
            if (e != NULL) {
                cJSON *a = cJSON_AddArrayToObject(j, "errors");
                cJSON_AddNumberToObject(j, "status", (double)e->status);
                for (size_t i = 0; a != NULL && i < e->n; i++) {
                    cJSON *o = cJSON_CreateObject();
                    if (o == NULL)
                        break;
                    cJSON_AddStringToObject(o, "code", e->items[i].code);
                    cJSON_AddStringToObject(o, "message", e->items[i].message);
                    cJSON_AddItemToArray(a, o);
                }
            }
            cli_json_emit(j);
        }
    }
    return CLI_FAILED;
}

static int cc_open(struct ccx *x)
{
    struct dc_opts o;
    enum mc_err err;
    if (x->c != NULL)
        return CLI_DONE;
    dc_opts_init(&o);
    o.api_key = x->api_key;
    o.base_url = x->base_url;
    o.ca_bundle = x->g->ca_bundle;
    o.insecure = x->g->insecure;
    o.seed = x->g->seed;
    if (o.api_key == NULL)
        return cli_usage(x->cmd, "no API key: give --api-key, --api-key-file or $DIGICERT_API_KEY");
    err = dc_new(&o, &x->c);
    if (err != MC_OK)
        return cc_fail(x, "cannot set up the client (check --base-url and the API key)", err);
    return CLI_DONE;
}

/* Prints {"result": result, ...obj} with --json (obj taken), else nothing; returns rc. */
static int cc_emit(struct ccx *x, const char *result, cJSON *obj, int rc)
{
    if (obj == NULL)
        obj = cJSON_CreateObject();
    if (obj != NULL && x->g->json) {
        if (result != NULL) {
            cJSON_DeleteItemFromObjectCaseSensitive(obj, "result");
            cJSON_AddStringToObject(obj, "result", result);
        }
        cli_json_emit(obj);
        return rc;
    }
    cJSON_Delete(obj);
    return rc;
}

/* Shows a server object: with --json on stdout, else pretty on stdout (it is the output
 * asked for, as `certcli directory` does). Takes j. */
static int cc_show(struct ccx *x, cJSON *j)
{
    char *t;
    if (x->g->json) {
        cli_json_emit(j);
        return CLI_DONE;
    }
    t = cJSON_Print(j);
    if (t != NULL)
        printf("%s\n", t);
    free(t);
    cJSON_Delete(j);
    return CLI_DONE;
}

static int cc_long(const char *cmd, const char *opt, const char *arg, long min, long max, long *out)
{
    if (cli_parse_long(arg, min, max, out) != MC_OK)
        return cli_usage(cmd, "%s wants a whole number in %ld..%ld, not '%s'", opt, min, max, arg);
    return CLI_DONE;
}

static int cc_push(const char *cmd, const char **v, size_t *n, const char *s)
{
    if (*n >= CC_MAX_LIST)
        return cli_usage(cmd, "too many repeated options (at most %d)", CC_MAX_LIST);
    v[(*n)++] = s;
    return CLI_DONE;
}

/* The CSR for an order: --csr FILE as it is, else one built for cn and sans with --key
 * FILE or a new P-256 key saved to --new-key FILE. New PEM string in *out. */
static int cc_csr(struct ccx *x, const char *csr_file, const char *key_file, const char *new_key,
                  const char *cn, const char *const *sans, size_t n, char **out)
{
    char *pem = NULL;
    size_t len = 0;
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    struct ident_list l = {0};
    enum mc_err err;
    int rc = CLI_FAILED;

    if ((csr_file != NULL) + (key_file != NULL) + (new_key != NULL) != 1)
        return cli_usage(x->cmd, "give exactly one of --csr FILE, --key FILE and --new-key FILE");
    if (csr_file != NULL) {
        err = file_read_all(csr_file, PEM_MAX_LEN, &pem, &len);
        if (err == MC_OK)
            err = pem_read_csr(pem, len, &req);
        if (err != MC_OK) {
            free(pem);
            return cc_fail(x, "cannot read --csr", err);
        }
        X509_REQ_free(req);
        *out = pem;
        return CLI_DONE;
    }
    if (cn == NULL)
        return cli_usage(x->cmd, "--cn NAME is needed to build a CSR");
    if (key_file != NULL) {
        err = key_load(key_file, &key);
        if (err != MC_OK) {
            rc = cc_fail(x, "cannot read --key", err);
            goto out;
        }
    } else {
        err = key_generate(KEY_EC_P256, &key);
        if (err == MC_OK)
            err = key_save(new_key, key);
        if (err != MC_OK) {
            rc = cc_fail(x, "cannot make or save --new-key", err);
            goto out;
        }
    }
    err = ident_list_add(&l, IDENT_DNS, cn);
    for (size_t i = 0; err == MC_OK && i < n; i++)
        err = ident_list_add(&l, IDENT_DNS, sans[i]);
    if (err == MC_OK)
        err = csr_build(key, cn, &l, false, &req);
    if (err == MC_OK)
        err = pem_write_csr(req, out);
    if (err != MC_OK) {
        rc = cc_fail(x, "cannot build the CSR", err);
        goto out;
    }
    rc = CLI_DONE;
out:
    EVP_PKEY_free(key);
    X509_REQ_free(req);
    ident_list_free(&l);
    return rc;
}

static cJSON *cc_placed_json(const struct dc_placed *p)
{
    cJSON *j = cJSON_CreateObject();
    if (j == NULL)
        return NULL;
    cJSON_AddNumberToObject(j, "order_id", (double)p->id);
    if (p->certificate_id != 0)
        cJSON_AddNumberToObject(j, "certificate_id", (double)p->certificate_id);
    if (p->request_id != 0)
        cJSON_AddNumberToObject(j, "request_id", (double)p->request_id);
    if (p->request_status != NULL)
        cJSON_AddStringToObject(j, "request_status", p->request_status);
    if (p->dcv_random_value != NULL)
        cJSON_AddStringToObject(j, "dcv_random_value", p->dcv_random_value);
    cJSON_AddBoolToObject(j, "issued", p->n_chain > 0);
    return j;
}

/* ---- the solvers as a dc_placer ------------------------------------------------------- */

struct cc_solvers {
    struct solver **v;
    size_t n;
};

static struct solver *cc_pick(struct cc_solvers *s, enum ch_type t)
{
    for (size_t i = 0; i < s->n; i++)
        if (solver_handles(s->v[i], t))
            return s->v[i];
    return NULL;
}

static enum mc_err cc_txt_present(void *arg, const char *fqdn, const char *value)
{
    struct solver *sv = cc_pick(arg, CH_DNS01);
    return sv != NULL ? solver_txt_present(sv, fqdn, value) : MC_ERR_UNSUPPORTED;
}

static enum mc_err cc_txt_wait(void *arg, const char *fqdn, const char *value)
{
    struct solver *sv = cc_pick(arg, CH_DNS01);
    return sv != NULL ? solver_txt_wait_ready(sv, fqdn, value) : MC_ERR_UNSUPPORTED;
}

static enum mc_err cc_txt_cleanup(void *arg, const char *fqdn, const char *value)
{
    struct solver *sv = cc_pick(arg, CH_DNS01);
    return sv != NULL ? solver_txt_cleanup(sv, fqdn, value) : MC_ERR_UNSUPPORTED;
}

static enum mc_err cc_file_present(void *arg, const char *name, const char *url_path,
                                   const char *content)
{
    struct solver *sv = cc_pick(arg, CH_HTTP01);
    (void)name; /* a webroot or the built-in server answers for every name */
    return sv != NULL ? solver_file_present(sv, url_path, content) : MC_ERR_UNSUPPORTED;
}

static enum mc_err cc_file_cleanup(void *arg, const char *name, const char *url_path)
{
    struct solver *sv = cc_pick(arg, CH_HTTP01);
    (void)name;
    return sv != NULL ? solver_file_cleanup(sv, url_path) : MC_ERR_UNSUPPORTED;
}

static enum mc_err cc_cname_present(void *arg, const char *fqdn, const char *target)
{
    struct solver *sv = cc_pick(arg, CH_DNS01);
    return sv != NULL ? solver_cname_present(sv, fqdn, target) : MC_ERR_UNSUPPORTED;
}

static enum mc_err cc_cname_cleanup(void *arg, const char *fqdn, const char *target)
{
    struct solver *sv = cc_pick(arg, CH_DNS01);
    return sv != NULL ? solver_cname_cleanup(sv, fqdn, target) : MC_ERR_UNSUPPORTED;
}

static void cc_placer(struct cc_solvers *s, bool at_name, struct dc_placer *p)
{
    memset(p, 0, sizeof *p);
    p->arg = s;
    p->txt_present = cc_txt_present;
    p->txt_wait = cc_txt_wait;
    p->txt_cleanup = cc_txt_cleanup;
    p->file_present = cc_file_present;
    p->file_cleanup = cc_file_cleanup;
    p->cname_present = cc_cname_present;
    p->cname_cleanup = cc_cname_cleanup;
    p->txt_at_name = at_name;
}

/* dns-txt-token for a DNS solver, http-token for a webroot or --http. */
static const char *cc_method_for(const struct cli_solver_opts *o)
{
    if (o->dns_mgmt != NULL || o->rfc2136 != NULL || o->dns_hook != NULL)
        return "dns-txt-token";
    if (o->webroot != NULL || o->http_port >= 0)
        return "http-token";
    return NULL;
}

/* ---- order ---------------------------------------------------------------------------- */

static const char order_help[] =
    "Usage: certcli certcentral order PRODUCT --cn NAME (--csr FILE | --key FILE | --new-key FILE)\n"
    "       [OPTIONS]\n"
    "Places an order (POST /order/certificate/PRODUCT): ssl_basic, ssl_securesite_flex,\n"
    "ssl_ev_securesite_flex, ssl_dv_geotrust, ssl_dv_rapidssl, ..., or ssl with --type-hint.\n"
    "certificate{}:\n"
    "  --cn NAME              common_name            --dns-name NAME  dns_names[] (repeat)\n"
    "  --csr FILE | --key FILE | --new-key FILE  the CSR, or one built for the names\n"
    "  --signature-hash H     sha256|sha384|sha512   --platform ID    server_platform.id\n"
    "  --ou UNIT              organization_units[]   --ca-cert-id ID\n"
    "  --cert-years N | --cert-days N | --cert-expires YYYY-MM-DD   cert_validity{}\n"
    "  --profile-option P\n"
    "organization{}:\n"
    "  --org-id ID            --org-contact USER_ID  --tech-contact USER_ID (contacts[])\n"
    "order:\n"
    "  --years N | --days N | --expires YYYY-MM-DD   validity_years/_days/custom_expiration_date\n"
    "  --order-years N | --order-days N | --order-expires DATE  order_validity{}\n"
    "  --dcv-method M         email|dns-txt-token|dns-cname-token|http-token|http-token-dynamic\n"
    "  --dcv-email NAME=EMAIL dcv_emails[] (repeat)  --additional-email E (repeat)\n"
    "  --use-auth-key         --auth-key-id ID       --skip-approval  --comments TEXT\n"
    "  --container ID         --custom-field ID=VALUE (repeat)        --payment-method M\n"
    "  --auto-renew 0|1       --renewal-message T    --disable-renewal-notifications\n"
    "  --disable-ct           --locale L             --renewal-of ORDER\n"
    "  --type-hint ov|ev|dv|private                  --extra JSON  (members merged last)\n"
    "  --out FILE             the chain, when the order is issued at once\n";

enum {
    O_CN = CLI_OPT_LOCAL + 100, O_DNS, O_CSR, O_KEY, O_NEWKEY, O_SIG, O_PLATFORM, O_OU, O_CACERT,
    O_CYEARS, O_CDAYS, O_CEXP, O_PROFILE, O_ORG, O_ORGC, O_TECHC, O_YEARS, O_DAYS, O_EXP, O_OYEARS,
    O_ODAYS, O_OEXP, O_METHOD, O_DCVEMAIL, O_ADDEMAIL, O_USEAK, O_AKID, O_SKIP, O_COMMENTS,
    O_CONTAINER, O_CFIELD, O_PAY, O_AUTORENEW, O_RENMSG, O_DISREN, O_DISCT, O_LOCALE, O_RENOF,
    O_HINT, O_EXTRA, O_OUT, O_CAA, O_STATUS, O_PRODUCT, O_DATE, O_LIMIT, O_OFFSET, O_SORT, O_NOTE,
    O_NAME, O_CHECK, O_KEEP, O_ATNAME, O_METHOD2, O_EMAIL, O_TIMEOUT, O_INTERVAL, O_CERT, O_ORDER,
    O_FORMAT, O_REASON, O_COMMENT, O_DAYS2, O_AUTHKEY, O_AKFILE, O_TS,
};

struct cc_order_args {
    const char *sans[CC_MAX_LIST], *ous[CC_MAX_LIST], *adds[CC_MAX_LIST];
    size_t nsans, nous, nadds;
    struct dc_contact contacts[2];
    size_t ncontacts;
    struct dc_dcv_email emails[CC_MAX_LIST];
    size_t nemails;
    struct dc_custom_field fields[CC_MAX_LIST];
    size_t nfields;
    char *split[2 * CC_MAX_LIST]; /* copies the NAME=VALUE options were split into */
    size_t nsplit;
    cJSON *extra;
};

static void cc_order_args_free(struct cc_order_args *a)
{
    for (size_t i = 0; i < a->nsplit; i++)
        free(a->split[i]);
    cJSON_Delete(a->extra);
}

/* Splits "A=B" into two strings kept in a. */
static int cc_split(struct ccx *x, struct cc_order_args *a, const char *opt, const char *arg,
                    const char **left, const char **right)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg || eq[1] == '\0')
        return cli_usage(x->cmd, "%s wants NAME=VALUE, not '%s'", opt, arg);
    if (a->nsplit + 2 > 2 * CC_MAX_LIST)
        return cli_usage(x->cmd, "too many %s", opt);
    a->split[a->nsplit] = strndup(arg, (size_t)(eq - arg));
    a->split[a->nsplit + 1] = strdup(eq + 1);
    if (a->split[a->nsplit] == NULL || a->split[a->nsplit + 1] == NULL) {
        free(a->split[a->nsplit]);
        free(a->split[a->nsplit + 1]);
        return cc_fail(x, "out of memory", MC_ERR_NOMEM);
    }
    *left = a->split[a->nsplit];
    *right = a->split[a->nsplit + 1];
    a->nsplit += 2;
    return CLI_DONE;
}

static int cc_order(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {
        {"cn", required_argument, NULL, O_CN},
        {"dns-name", required_argument, NULL, O_DNS},
        {"csr", required_argument, NULL, O_CSR},
        {"key", required_argument, NULL, O_KEY},
        {"new-key", required_argument, NULL, O_NEWKEY},
        {"signature-hash", required_argument, NULL, O_SIG},
        {"platform", required_argument, NULL, O_PLATFORM},
        {"ou", required_argument, NULL, O_OU},
        {"ca-cert-id", required_argument, NULL, O_CACERT},
        {"cert-years", required_argument, NULL, O_CYEARS},
        {"cert-days", required_argument, NULL, O_CDAYS},
        {"cert-expires", required_argument, NULL, O_CEXP},
        {"profile-option", required_argument, NULL, O_PROFILE},
        {"org-id", required_argument, NULL, O_ORG},
        {"org-contact", required_argument, NULL, O_ORGC},
        {"tech-contact", required_argument, NULL, O_TECHC},
        {"years", required_argument, NULL, O_YEARS},
        {"days", required_argument, NULL, O_DAYS},
        {"expires", required_argument, NULL, O_EXP},
        {"order-years", required_argument, NULL, O_OYEARS},
        {"order-days", required_argument, NULL, O_ODAYS},
        {"order-expires", required_argument, NULL, O_OEXP},
        {"dcv-method", required_argument, NULL, O_METHOD},
        {"dcv-email", required_argument, NULL, O_DCVEMAIL},
        {"additional-email", required_argument, NULL, O_ADDEMAIL},
        {"use-auth-key", no_argument, NULL, O_USEAK},
        {"auth-key-id", required_argument, NULL, O_AKID},
        {"skip-approval", no_argument, NULL, O_SKIP},
        {"comments", required_argument, NULL, O_COMMENTS},
        {"container", required_argument, NULL, O_CONTAINER},
        {"custom-field", required_argument, NULL, O_CFIELD},
        {"payment-method", required_argument, NULL, O_PAY},
        {"auto-renew", required_argument, NULL, O_AUTORENEW},
        {"renewal-message", required_argument, NULL, O_RENMSG},
        {"disable-renewal-notifications", no_argument, NULL, O_DISREN},
        {"disable-ct", no_argument, NULL, O_DISCT},
        {"locale", required_argument, NULL, O_LOCALE},
        {"renewal-of", required_argument, NULL, O_RENOF},
        {"type-hint", required_argument, NULL, O_HINT},
        {"extra", required_argument, NULL, O_EXTRA},
        {"out", required_argument, NULL, O_OUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct dc_order_req r;
    struct cc_order_args a;
    struct dc_placed p;
    const char *csr_file = NULL, *key_file = NULL, *new_key = NULL, *out_file = NULL;
    char *csr = NULL, *chain = NULL;
    long v;
    int rc = CLI_USAGE, c;
    enum mc_err err;

    dc_order_req_init(&r);
    memset(&a, 0, sizeof a);
    memset(&p, 0, sizeof p);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        rc = CLI_DONE;
        const char *l = NULL, *rt = NULL;
        switch (c) {
        case 'h':
            fputs(order_help, stdout);
            rc = CLI_DONE;
            goto out;
        case O_CN: r.common_name = optarg; break;
        case O_DNS: rc = cc_push(x->cmd, a.sans, &a.nsans, optarg); break;
        case O_CSR: csr_file = optarg; break;
        case O_KEY: key_file = optarg; break;
        case O_NEWKEY: new_key = optarg; break;
        case O_SIG: r.signature_hash = optarg; break;
        case O_PLATFORM:
            rc = cc_long(x->cmd, "--platform", optarg, -1, 100000, &v);
            r.server_platform_id = v;
            break;
        case O_OU: rc = cc_push(x->cmd, a.ous, &a.nous, optarg); break;
        case O_CACERT: r.ca_cert_id_str = optarg; break;
        case O_CYEARS:
            rc = cc_long(x->cmd, "--cert-years", optarg, 1, 10, &v);
            r.cert_validity.years = (int)v;
            break;
        case O_CDAYS:
            rc = cc_long(x->cmd, "--cert-days", optarg, 1, 3650, &v);
            r.cert_validity.days = (int)v;
            break;
        case O_CEXP: r.cert_validity.custom_expiration_date = optarg; break;
        case O_PROFILE: r.profile_option = optarg; break;
        case O_ORG:
            rc = cc_long(x->cmd, "--org-id", optarg, 1, 0x7fffffffL, &v);
            r.organization_id = v;
            break;
        case O_ORGC:
        case O_TECHC:
            rc = cc_long(x->cmd, "--org-contact/--tech-contact", optarg, 1, 0x7fffffffL, &v);
            if (rc == CLI_DONE && a.ncontacts < 2) {
                a.contacts[a.ncontacts].contact_type =
                    c == O_ORGC ? "organization_contact" : "technical_contact";
                a.contacts[a.ncontacts++].user_id = v;
            }
            break;
        case O_YEARS:
            rc = cc_long(x->cmd, "--years", optarg, 1, 10, &v);
            r.validity.years = (int)v;
            break;
        case O_DAYS:
            rc = cc_long(x->cmd, "--days", optarg, 1, 3650, &v);
            r.validity.days = (int)v;
            break;
        case O_EXP: r.validity.custom_expiration_date = optarg; break;
        case O_OYEARS:
            rc = cc_long(x->cmd, "--order-years", optarg, 1, 10, &v);
            r.order_validity.years = (int)v;
            break;
        case O_ODAYS:
            rc = cc_long(x->cmd, "--order-days", optarg, 1, 3650, &v);
            r.order_validity.days = (int)v;
            break;
        case O_OEXP: r.order_validity.custom_expiration_date = optarg; break;
        case O_METHOD: r.dcv_method = optarg; break;
        case O_DCVEMAIL:
            rc = cc_split(x, &a, "--dcv-email", optarg, &l, &rt);
            if (rc == CLI_DONE && a.nemails < CC_MAX_LIST) {
                const char *at = strchr(rt, '@');
                a.emails[a.nemails].dns_name = l;
                a.emails[a.nemails].email = rt;
                a.emails[a.nemails++].email_domain = at != NULL ? at + 1 : NULL;
            }
            break;
        case O_ADDEMAIL: rc = cc_push(x->cmd, a.adds, &a.nadds, optarg); break;
        case O_USEAK: r.use_auth_key = true; break;
        case O_AKID: r.auth_key_id = optarg; break;
        case O_SKIP: r.skip_approval = true; break;
        case O_COMMENTS: r.comments = optarg; break;
        case O_CONTAINER:
            rc = cc_long(x->cmd, "--container", optarg, 1, 0x7fffffffL, &v);
            r.container_id = v;
            break;
        case O_CFIELD:
            rc = cc_split(x, &a, "--custom-field", optarg, &l, &rt);
            if (rc == CLI_DONE && a.nfields < CC_MAX_LIST) {
                rc = cc_long(x->cmd, "--custom-field ID", l, 1, 0x7fffffffL, &v);
                a.fields[a.nfields].metadata_id = v;
                a.fields[a.nfields++].value = rt;
            }
            break;
        case O_PAY: r.payment_method = optarg; break;
        case O_AUTORENEW:
            rc = cc_long(x->cmd, "--auto-renew", optarg, 0, 1, &v);
            r.auto_renew = (int)v;
            break;
        case O_RENMSG: r.custom_renewal_message = optarg; break;
        case O_DISREN: r.disable_renewal_notifications = 1; break;
        case O_DISCT: r.disable_ct = 1; break;
        case O_LOCALE: r.locale = optarg; break;
        case O_RENOF:
            rc = cc_long(x->cmd, "--renewal-of", optarg, 1, 0x7fffffffL, &v);
            r.renewal_of_order_id = v;
            break;
        case O_HINT: r.type_hint = optarg; break;
        case O_EXTRA:
            cJSON_Delete(a.extra);
            a.extra = cJSON_Parse(optarg);
            if (!cJSON_IsObject(a.extra))
                rc = cli_usage(x->cmd, "--extra wants a JSON object");
            break;
        case O_OUT: out_file = optarg; break;
        default:
            rc = cli_bad_option(x->cmd, c, argv);
            break;
        }
        if (rc != CLI_DONE)
            goto out;
    }
    rc = CLI_USAGE;
    if (optind != argc - 1) {
        rc = cli_usage(x->cmd, "give the product name id (ssl_basic, ssl_dv_geotrust, ...)");
        goto out;
    }
    r.product = argv[optind];
    if (r.common_name == NULL) {
        rc = cli_usage(x->cmd, "--cn NAME is required");
        goto out;
    }
    rc = cc_csr(x, csr_file, key_file, new_key, r.common_name, a.sans, a.nsans, &csr);
    if (rc != CLI_DONE)
        goto out;
    r.csr = csr;
    r.dns_names = a.sans;
    r.n_dns_names = a.nsans;
    r.organization_units = a.ous;
    r.n_organization_units = a.nous;
    r.additional_emails = a.adds;
    r.n_additional_emails = a.nadds;
    r.contacts = a.contacts;
    r.n_contacts = a.ncontacts;
    r.dcv_emails = a.emails;
    r.n_dcv_emails = a.nemails;
    r.custom_fields = a.fields;
    r.n_custom_fields = a.nfields;
    r.extra = a.extra;
    rc = cc_open(x);
    if (rc != CLI_DONE)
        goto out;
    err = dc_order_place(x->c, &r, &p);
    if (err != MC_OK) {
        rc = cc_fail(x, "the order was refused", err);
        goto out;
    }
    if (p.n_chain > 0 && out_file != NULL) {
        err = dc_placed_chain_pem(&p, &chain);
        if (err == MC_OK)
            err = file_write_atomic(out_file, chain, strlen(chain), 0644);
        if (err != MC_OK) {
            rc = cc_fail(x, "cannot write --out", err);
            goto out;
        }
    }
    cli_say(x->g, "certcli %s: order %lld placed%s%s%s", x->cmd, (long long)p.id,
            p.n_chain > 0 ? ", issued at once" : "",
            p.dcv_random_value != NULL ? "; DCV random value " : "",
            p.dcv_random_value != NULL ? p.dcv_random_value : "");
    rc = cc_emit(x, "placed", cc_placed_json(&p), CLI_DONE);
out:
    dc_placed_free(&p);
    cc_order_args_free(&a);
    free(csr);
    free(chain);
    return rc;
}

/* ---- info, list, cancel ---------------------------------------------------------------- */

/* The shape of the simple actions: options, then exactly nargs positional arguments. */
static int cc_parse(struct ccx *x, int argc, char **argv, const struct option *opts,
                    const char *usage, int nargs, int (*opt)(struct ccx *x, int c, void *arg),
                    void *arg)
{
    int c, rc;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return -1;
        }
        if (c == '?' || c == ':')
            return cli_bad_option(x->cmd, c, argv);
        rc = opt != NULL ? opt(x, c, arg) : cli_bad_option(x->cmd, c, argv);
        if (rc != CLI_DONE)
            return rc;
    }
    if (nargs >= 0 && argc - optind != nargs)
        return cli_usage(x->cmd, "wants %d argument%s", nargs, nargs == 1 ? "" : "s");
    return CLI_DONE;
}

#define CC_HELP_OPT {"help", no_argument, NULL, 'h'}
#define CC_END_OPT {NULL, 0, NULL, 0}

static int info_opt(struct ccx *x, int c, void *arg)
{
    (void)x;
    if (c != O_CAA)
        return CLI_USAGE;
    *(bool *)arg = true;
    return CLI_DONE;
}

static int cc_info(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {{"caa", no_argument, NULL, O_CAA}, CC_HELP_OPT, CC_END_OPT};
    static const char usage[] = "Usage: certcli certcentral info ORDER [--caa]\n"
                                "Shows an order (ORDER: its id, or the certificate's serial or\n"
                                "thumbprint); --caa adds the CAA check status.\n";
    bool caa = false;
    cJSON *j = NULL;
    int rc = cc_parse(x, argc, argv, opts, usage, 1, info_opt, &caa);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    rc = cc_open(x);
    if (rc != CLI_DONE)
        return rc;
    enum mc_err err = dc_order_info(x->c, argv[optind], caa, &j);
    if (err != MC_OK)
        return cc_fail(x, "cannot get the order", err);
    return cc_show(x, j);
}

struct list_args {
    struct dc_list_opts o;
};

static int list_opt(struct ccx *x, int c, void *arg)
{
    struct dc_list_opts *o = arg;
    switch (c) {
    case O_STATUS: o->status = optarg; return CLI_DONE;
    case O_CN: o->common_name = optarg; return CLI_DONE;
    case O_PRODUCT: o->product_name_id = optarg; return CLI_DONE;
    case O_DATE: o->date_created = optarg; return CLI_DONE;
    case O_SORT: o->sort = optarg; return CLI_DONE;
    case O_LIMIT: return cc_long(x->cmd, "--limit", optarg, 1, 1000, &o->limit);
    case O_OFFSET: return cc_long(x->cmd, "--offset", optarg, 0, 0x7fffffffL, &o->offset);
    }
    return CLI_USAGE;
}

static int cc_list(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {
        {"status", required_argument, NULL, O_STATUS}, {"common-name", required_argument, NULL, O_CN},
        {"product", required_argument, NULL, O_PRODUCT}, {"date-created", required_argument, NULL, O_DATE},
        {"limit", required_argument, NULL, O_LIMIT}, {"offset", required_argument, NULL, O_OFFSET},
        {"sort", required_argument, NULL, O_SORT}, CC_HELP_OPT, CC_END_OPT};
    static const char usage[] =
        "Usage: certcli certcentral list [--status S] [--common-name N] [--product ID]\n"
        "       [--date-created RANGE] [--limit N] [--offset N] [--sort -date_created|order_id]\n"
        "Lists orders (filters[...], limit up to 1000, offset, sort).\n";
    struct dc_list_opts o;
    cJSON *j = NULL;
    memset(&o, 0, sizeof o);
    int rc = cc_parse(x, argc, argv, opts, usage, 0, list_opt, &o);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    rc = cc_open(x);
    if (rc != CLI_DONE)
        return rc;
    enum mc_err err = dc_order_list(x->c, &o, &j);
    if (err != MC_OK)
        return cc_fail(x, "cannot list orders", err);
    return cc_show(x, j);
}

static int note_opt(struct ccx *x, int c, void *arg)
{
    (void)x;
    if (c != O_NOTE && c != O_COMMENT)
        return CLI_USAGE;
    *(const char **)arg = optarg;
    return CLI_DONE;
}

static int cc_cancel(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {{"note", required_argument, NULL, O_NOTE}, CC_HELP_OPT,
                                         CC_END_OPT};
    static const char usage[] = "Usage: certcli certcentral cancel ORDER [--note TEXT]\n"
                                "Cancels a pending order (status canceled, with a note).\n";
    const char *note = NULL;
    int rc = cc_parse(x, argc, argv, opts, usage, 1, note_opt, &note);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    rc = cc_open(x);
    if (rc != CLI_DONE)
        return rc;
    enum mc_err err = dc_order_status(x->c, argv[optind], "canceled", note);
    if (err != MC_OK)
        return cc_fail(x, "cannot cancel the order", err);
    cli_say(x->g, "certcli %s: order %s canceled", x->cmd, argv[optind]);
    cJSON *j = cJSON_CreateObject();
    if (j != NULL)
        cJSON_AddStringToObject(j, "order_id", argv[optind]);
    return cc_emit(x, "canceled", j, CLI_DONE);
}

/* ---- dcv ------------------------------------------------------------------------------ */

struct dcv_args {
    struct cli_solver_opts so;
    const char *method;
    const char *names[CC_MAX_LIST];
    size_t nnames;
    bool check, keep, at_name;
    const char *locale;
    struct cc_order_args emails; /* resend: --email NAME=ADDR */
};

static int dcv_opt(struct ccx *x, int c, void *arg)
{
    struct dcv_args *d = arg;
    int k = cli_solver_opt(&d->so, c, optarg, x->cmd);
    if (k == 1)
        return CLI_DONE;
    if (k < 0)
        return CLI_USAGE;
    switch (c) {
    case O_METHOD2: d->method = optarg; return CLI_DONE;
    case O_NAME: return cc_push(x->cmd, d->names, &d->nnames, optarg);
    case O_CHECK: d->check = true; return CLI_DONE;
    case O_KEEP: d->keep = true; return CLI_DONE;
    case O_ATNAME: d->at_name = true; return CLI_DONE;
    case O_LOCALE: d->locale = optarg; return CLI_DONE;
    case O_EMAIL: {
        const char *l = NULL, *r = NULL;
        int rc = cc_split(x, &d->emails, "--email", optarg, &l, &r);
        if (rc == CLI_DONE && d->emails.nemails < CC_MAX_LIST) {
            const char *at = strchr(r, '@');
            d->emails.emails[d->emails.nemails].dns_name = l;
            d->emails.emails[d->emails.nemails].email = r;
            d->emails.emails[d->emails.nemails++].email_domain = at != NULL ? at + 1 : NULL;
        }
        return rc;
    }
    }
    return CLI_USAGE; /* cc_parse answers getopt's '?' and ':' itself */
}

static const char dcv_help[] =
    "Usage: certcli certcentral dcv ACTION ORDER [OPTIONS]\n"
    "  show ORDER           the order's DCV random value (renewed when it has expired)\n"
    "  place ORDER          put the random value where the CA looks, for every name of the\n"
    "                       order: a TXT at _dnsauth.NAME (or NAME with --txt-at-name) with a\n"
    "                       DNS solver (--dns-mgmt, --dns-rfc2136, --dns-hook), or\n"
    "                       /.well-known/pki-validation/fileauth.txt with --webroot DIR or\n"
    "                       --http PORT; --method M to choose (dns-txt-token, http-token,\n"
    "                       dns-cname-token: _dnsauth.NAME CNAME VALUE.dcv.digicert.com);\n"
    "                       --check runs check-dcv afterwards and then takes the value away\n"
    "                       unless --keep; without --check the value stays for the CA's own\n"
    "                       polling (undo with `dcv clean`)\n"
    "  clean ORDER          take away what `place` put there (same solver options)\n"
    "  check ORDER [--name N]...  check-dcv, for some names or all\n"
    "  method ORDER --method M    change the DCV method (a token method prints the new value)\n"
    "  resend ORDER [--email NAME=ADDR]... [--locale L]  resend the DCV emails\n"
    "  status ORDER         the order's validation status\n";

/* Places (or cleans) the order's random value with the chosen solvers. */
static int dcv_place(struct ccx *x, const char *id, struct dcv_args *d, bool clean)
{
    struct cc_solvers s = {NULL, 0};
    struct dc_placer p;
    cJSON *order = NULL, *chk = NULL, *j = NULL;
    char **names = NULL, *rv = NULL;
    size_t n = 0;
    const char *method = d->method != NULL ? d->method : cc_method_for(&d->so);
    enum mc_err err;
    int rc = CLI_FAILED;

    if (!cli_solver_any(&d->so))
        return cli_usage(x->cmd, "choose where to place the value: --dns-mgmt, --dns-rfc2136, "
                                 "--dns-hook, --webroot or --http");
    if (method == NULL ||
        (strcmp(method, "dns-txt-token") != 0 && strcmp(method, "dns-cname-token") != 0 &&
         strcmp(method, "http-token") != 0))
        return cli_usage(x->cmd, "--method is dns-txt-token, dns-cname-token or http-token (an "
                                 "email cannot be placed by certcli)");
    err = dc_order_info(x->c, id, false, &order);
    if (err == MC_OK)
        err = dc_order_names(order, &names, &n);
    if (err != MC_OK) {
        rc = cc_fail(x, "cannot read the order's names", err);
        goto out;
    }
    err = dc_dcv_random_value(x->c, id, &rv, NULL);
    if (err != MC_OK) {
        rc = cc_fail(x, "cannot get the random value", err);
        goto out;
    }
    err = cli_solvers_new(&d->so, x->cmd, &s.v, &s.n);
    if (err != MC_OK)
        goto out;
    cc_placer(&s, d->at_name, &p);
    if (clean) {
        err = dc_unplace(&p, method, names, n, rv);
        if (err != MC_OK) {
            rc = cc_fail(x, "cannot take the random value away", err);
            goto out;
        }
        cli_say(x->g, "certcli %s: random value of order %s taken away", x->cmd, id);
        rc = cc_emit(x, "cleaned", NULL, CLI_DONE);
        goto out;
    }
    err = dc_place(&p, method, names, n, rv);
    if (err != MC_OK) {
        rc = cc_fail(x, "cannot place the random value", err);
        goto out;
    }
    cli_say(x->g, "certcli %s: placed the random value for %zu name%s with %s", x->cmd, n,
            n == 1 ? "" : "s", method);
    j = cJSON_CreateObject();
    if (j != NULL) {
        cJSON_AddStringToObject(j, "method", method);
        cJSON_AddStringToObject(j, "dcv_random_value", rv);
        cJSON_AddNumberToObject(j, "names", (double)n);
    }
    rc = CLI_DONE;
    if (d->check) {
        err = dc_check_dcv(x->c, id, NULL, 0, &chk);
        if (err != MC_OK) {
            rc = cc_fail(x, "check-dcv failed", err);
        } else {
            const char *st = NULL;
            if (json_get_string(chk, "order_status", &st) == MC_OK)
                cli_say(x->g, "certcli %s: check-dcv: order %s", x->cmd, st);
            if (j != NULL) {
                cJSON_AddItemToObject(j, "check", chk);
                chk = NULL;
            }
        }
        if (!d->keep && dc_unplace(&p, method, names, n, rv) != MC_OK)
            cli_say(x->g, "certcli %s: warning: could not take the random value away", x->cmd);
    } else if (!d->keep && (d->so.http_port >= 0)) {
        /* The built-in server stops with us: say so rather than pretend it stays. */
        cli_say(x->g, "certcli %s: note: --http serves only while certcli runs; use --check",
                x->cmd);
    }
    if (rc == CLI_DONE)
        rc = cc_emit(x, "placed", j, CLI_DONE);
    j = NULL;
out:
    cJSON_Delete(order);
    cJSON_Delete(chk);
    cJSON_Delete(j);
    dc_strv_free(names, n);
    free(rv);
    cli_solvers_free(s.v, s.n);
    return rc;
}

static int cc_dcv(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_SOLVER_LONGOPTS,
        {"method", required_argument, NULL, O_METHOD2},
        {"name", required_argument, NULL, O_NAME},
        {"check", no_argument, NULL, O_CHECK},
        {"keep", no_argument, NULL, O_KEEP},
        {"txt-at-name", no_argument, NULL, O_ATNAME},
        {"email", required_argument, NULL, O_EMAIL},
        {"locale", required_argument, NULL, O_LOCALE},
        CC_HELP_OPT,
        CC_END_OPT};
    struct dcv_args d;
    const char *action, *id;
    cJSON *j = NULL;
    char *val = NULL, *exp = NULL;
    enum mc_err err;
    int rc;

    memset(&d, 0, sizeof d);
    cli_solver_opts_init(&d.so);
    rc = cc_parse(x, argc, argv, opts, dcv_help, 2, dcv_opt, &d);
    if (rc != CLI_DONE) {
        cc_order_args_free(&d.emails);
        return rc < 0 ? CLI_DONE : rc;
    }
    action = argv[optind];
    id = argv[optind + 1];
    rc = cc_open(x);
    if (rc != CLI_DONE)
        goto out;
    if (strcmp(action, "show") == 0) {
        err = dc_dcv_random_value(x->c, id, &val, &exp);
        if (err != MC_OK) {
            rc = cc_fail(x, "cannot get the random value", err);
            goto out;
        }
        if (!x->g->json)
            printf("%s\n", val);
        j = cJSON_CreateObject();
        if (j != NULL) {
            cJSON_AddStringToObject(j, "dcv_random_value", val);
            if (exp != NULL)
                cJSON_AddStringToObject(j, "expiration_date", exp);
        }
        rc = cc_emit(x, "ok", j, CLI_DONE);
    } else if (strcmp(action, "place") == 0 || strcmp(action, "clean") == 0) {
        rc = dcv_place(x, id, &d, strcmp(action, "clean") == 0);
    } else if (strcmp(action, "check") == 0) {
        err = dc_check_dcv(x->c, id, d.names, d.nnames, &j);
        if (err != MC_OK) {
            rc = cc_fail(x, "check-dcv failed", err);
            goto out;
        }
        rc = cc_show(x, j);
    } else if (strcmp(action, "method") == 0) {
        if (d.method == NULL) {
            rc = cli_usage(x->cmd, "dcv method wants --method M");
            goto out;
        }
        err = dc_dcv_method(x->c, id, d.method, &val);
        if (err != MC_OK) {
            rc = cc_fail(x, "cannot change the DCV method", err);
            goto out;
        }
        cli_say(x->g, "certcli %s: order %s now uses %s%s%s", x->cmd, id, d.method,
                val != NULL ? "; random value " : "", val != NULL ? val : "");
        j = cJSON_CreateObject();
        if (j != NULL) {
            cJSON_AddStringToObject(j, "dcv_method", d.method);
            if (val != NULL)
                cJSON_AddStringToObject(j, "dcv_random_value", val);
        }
        rc = cc_emit(x, "changed", j, CLI_DONE);
    } else if (strcmp(action, "resend") == 0) {
        err = dc_resend_emails(x->c, id, d.emails.emails, d.emails.nemails, d.locale);
        if (err != MC_OK) {
            rc = cc_fail(x, "cannot resend the DCV emails", err);
            goto out;
        }
        cli_say(x->g, "certcli %s: DCV emails of order %s sent again", x->cmd, id);
        rc = cc_emit(x, "sent", NULL, CLI_DONE);
    } else if (strcmp(action, "status") == 0) {
        err = dc_order_validation(x->c, id, &j);
        if (err != MC_OK) {
            rc = cc_fail(x, "cannot get the validation status", err);
            goto out;
        }
        rc = cc_show(x, j);
    } else {
        rc = cli_usage(x->cmd, "unknown dcv action '%s' (show, place, clean, check, method, "
                               "resend, status)", action);
    }
out:
    cc_order_args_free(&d.emails);
    free(val);
    free(exp);
    return rc;
}

/* ---- watch ---------------------------------------------------------------------------- */

static int watch_opt(struct ccx *x, int c, void *arg)
{
    struct dc_watch *w = arg;
    switch (c) {
    case O_STATUS: w->want = optarg; return CLI_DONE;
    case O_TIMEOUT: return cc_long(x->cmd, "--timeout", optarg, 1, 7 * 86400, &w->timeout_s);
    case O_INTERVAL: return cc_long(x->cmd, "--interval", optarg, 10, 3600000, &w->interval_ms);
    }
    return CLI_USAGE;
}

static int cc_watch(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {
        {"status", required_argument, NULL, O_STATUS}, {"timeout", required_argument, NULL, O_TIMEOUT},
        {"interval", required_argument, NULL, O_INTERVAL}, CC_HELP_OPT, CC_END_OPT};
    static const char usage[] =
        "Usage: certcli certcentral watch ORDER [--status S] [--timeout SECONDS]\n"
        "       [--interval MS]\n"
        "Polls /order/certificate/status-changes until ORDER reaches S (default issued),\n"
        "every --interval ms (default 2000) for at most --timeout s (default 300).\n"
        "Exit status 1 when the order ends rejected, canceled, revoked or expired instead.\n";
    struct dc_watch w;
    char *status = NULL;
    int64_t cert = 0;
    memset(&w, 0, sizeof w);
    int rc = cc_parse(x, argc, argv, opts, usage, 1, watch_opt, &w);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    w.progress = !x->g->json && x->g->verbosity >= 0;
    rc = cc_open(x);
    if (rc != CLI_DONE)
        return rc;
    enum mc_err err = dc_watch_order(x->c, argv[optind], &w, &status, &cert);
    if (err != MC_OK) {
        free(status);
        return cc_fail(x, "the order did not reach the status", err);
    }
    cli_say(x->g, "certcli %s: order %s is %s%s", x->cmd, argv[optind], status,
            cert != 0 ? " (certificate id known)" : "");
    cJSON *j = cJSON_CreateObject();
    if (j != NULL) {
        cJSON_AddStringToObject(j, "order_id", argv[optind]);
        cJSON_AddStringToObject(j, "status", status);
        if (cert != 0)
            cJSON_AddNumberToObject(j, "certificate_id", (double)cert);
    }
    free(status);
    return cc_emit(x, "reached", j, CLI_DONE);
}

/* ---- download ------------------------------------------------------------------------- */

struct dl_args {
    const char *cert, *order, *format, *out;
};

static int dl_opt(struct ccx *x, int c, void *arg)
{
    struct dl_args *d = arg;
    (void)x;
    switch (c) {
    case O_CERT: d->cert = optarg; return CLI_DONE;
    case O_ORDER: d->order = optarg; return CLI_DONE;
    case O_FORMAT: d->format = optarg; return CLI_DONE;
    case O_OUT: d->out = optarg; return CLI_DONE;
    }
    return CLI_USAGE;
}

static int cc_download(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {
        {"cert", required_argument, NULL, O_CERT}, {"order", required_argument, NULL, O_ORDER},
        {"format", required_argument, NULL, O_FORMAT}, {"out", required_argument, NULL, O_OUT},
        CC_HELP_OPT, CC_END_OPT};
    static const char usage[] =
        "Usage: certcli certcentral download (--cert ID | --order ID) [--format F] --out FILE\n"
        "Formats: pem_all (leaf, intermediate, root), pem_noroot, pem_nointermediate, p7b,\n"
        "cer, default (zip), apache (zip), default_cer (zip), default_pem (zip), platform\n"
        "(the order's server platform, --cert only). Without --format: the default zip.\n";
    struct dl_args d;
    char *ctype = NULL;
    size_t len = 0;
    memset(&d, 0, sizeof d);
    int rc = cc_parse(x, argc, argv, opts, usage, 0, dl_opt, &d);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    if ((d.cert == NULL) == (d.order == NULL))
        return cli_usage(x->cmd, "give exactly one of --cert ID and --order ID");
    if (d.out == NULL)
        return cli_usage(x->cmd, "--out FILE is required");
    if (d.format != NULL && !dc_format_ok(d.format) && strcmp(d.format, "platform") != 0)
        return cli_usage(x->cmd, "unknown --format '%s'", d.format);
    rc = cc_open(x);
    if (rc != CLI_DONE)
        return rc;
    enum mc_err err = dc_download(x->c, d.cert != NULL ? d.cert : d.order, d.order != NULL,
                                  d.format, d.out, &ctype, &len);
    if (err != MC_OK)
        return cc_fail(x, "the download failed", err);
    cli_say(x->g, "certcli %s: wrote %zu bytes (%s) to %s", x->cmd, len,
            ctype != NULL ? ctype : "no type", d.out);
    cJSON *j = cJSON_CreateObject();
    if (j != NULL) {
        cJSON_AddStringToObject(j, "path", d.out);
        cJSON_AddNumberToObject(j, "bytes", (double)len);
        if (ctype != NULL)
            cJSON_AddStringToObject(j, "content_type", ctype);
        cJSON_AddStringToObject(j, "format", d.format != NULL ? d.format : "default");
    }
    free(ctype);
    return cc_emit(x, "downloaded", j, CLI_DONE);
}

/* ---- reissue -------------------------------------------------------------------------- */

struct reissue_args {
    struct dc_reissue_req r;
    const char *sans[CC_MAX_LIST];
    size_t nsans;
    const char *csr, *key, *new_key;
};

static int reissue_opt(struct ccx *x, int c, void *arg)
{
    struct reissue_args *a = arg;
    long v = 0;
    int rc;
    switch (c) {
    case O_CN: a->r.common_name = optarg; return CLI_DONE;
    case O_DNS: return cc_push(x->cmd, a->sans, &a->nsans, optarg);
    case O_CSR: a->csr = optarg; return CLI_DONE;
    case O_KEY: a->key = optarg; return CLI_DONE;
    case O_NEWKEY: a->new_key = optarg; return CLI_DONE;
    case O_SIG: a->r.signature_hash = optarg; return CLI_DONE;
    case O_METHOD: a->r.dcv_method = optarg; return CLI_DONE;
    case O_SKIP: a->r.skip_approval = true; return CLI_DONE;
    case O_COMMENTS: a->r.comments = optarg; return CLI_DONE;
    case O_PLATFORM:
        rc = cc_long(x->cmd, "--platform", optarg, -1, 100000, &v);
        a->r.server_platform_id = v;
        return rc;
    case O_CACERT:
        rc = cc_long(x->cmd, "--ca-cert-id", optarg, 1, 0x7fffffffL, &v);
        a->r.ca_cert_id = v;
        return rc;
    }
    return CLI_USAGE;
}

static int cc_reissue(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {
        {"cn", required_argument, NULL, O_CN}, {"dns-name", required_argument, NULL, O_DNS},
        {"csr", required_argument, NULL, O_CSR}, {"key", required_argument, NULL, O_KEY},
        {"new-key", required_argument, NULL, O_NEWKEY},
        {"signature-hash", required_argument, NULL, O_SIG},
        {"platform", required_argument, NULL, O_PLATFORM},
        {"ca-cert-id", required_argument, NULL, O_CACERT},
        {"dcv-method", required_argument, NULL, O_METHOD},
        {"skip-approval", no_argument, NULL, O_SKIP}, {"comments", required_argument, NULL, O_COMMENTS},
        CC_HELP_OPT, CC_END_OPT};
    static const char usage[] =
        "Usage: certcli certcentral reissue ORDER --cn NAME [--dns-name N]...\n"
        "       (--csr FILE | --key FILE | --new-key FILE) [--signature-hash H] [--platform ID]\n"
        "       [--ca-cert-id ID] [--dcv-method M] [--skip-approval] [--comments TEXT]\n"
        "Reissues the order's certificate; it waits for approval unless --skip-approval\n"
        "(an administrator key). The order is reissue_pending until the new one is issued.\n";
    struct reissue_args a;
    struct dc_placed p;
    char *csr = NULL;
    memset(&a, 0, sizeof a);
    memset(&p, 0, sizeof p);
    int rc = cc_parse(x, argc, argv, opts, usage, 1, reissue_opt, &a);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    rc = cc_csr(x, a.csr, a.key, a.new_key, a.r.common_name, a.sans, a.nsans, &csr);
    if (rc != CLI_DONE)
        return rc;
    a.r.csr = csr;
    a.r.dns_names = a.sans;
    a.r.n_dns_names = a.nsans;
    rc = cc_open(x);
    if (rc == CLI_DONE) {
        enum mc_err err = dc_reissue(x->c, argv[optind], &a.r, &p);
        if (err != MC_OK) {
            rc = cc_fail(x, "the reissue was refused", err);
        } else {
            cli_say(x->g, "certcli %s: reissue of order %lld requested (request %lld)", x->cmd,
                    (long long)p.id, (long long)p.request_id);
            rc = cc_emit(x, "requested", cc_placed_json(&p), CLI_DONE);
        }
    }
    dc_placed_free(&p);
    free(csr);
    return rc;
}

/* ---- revoke --------------------------------------------------------------------------- */

struct revoke_args {
    const char *cert, *order, *reason, *comments;
    bool skip;
};

static int revoke_opt(struct ccx *x, int c, void *arg)
{
    struct revoke_args *a = arg;
    (void)x;
    switch (c) {
    case O_CERT: a->cert = optarg; return CLI_DONE;
    case O_ORDER: a->order = optarg; return CLI_DONE;
    case O_REASON: a->reason = optarg; return CLI_DONE;
    case O_COMMENTS: a->comments = optarg; return CLI_DONE;
    case O_SKIP: a->skip = true; return CLI_DONE;
    }
    return CLI_USAGE;
}

static int cc_revoke(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {
        {"cert", required_argument, NULL, O_CERT}, {"order", required_argument, NULL, O_ORDER},
        {"reason", required_argument, NULL, O_REASON}, {"comments", required_argument, NULL, O_COMMENTS},
        {"skip-approval", no_argument, NULL, O_SKIP}, CC_HELP_OPT, CC_END_OPT};
    static const char usage[] =
        "Usage: certcli certcentral revoke (--cert ID | --order ID) [--reason R]\n"
        "       [--comments TEXT] [--skip-approval]\n"
        "Revokes a certificate (by id or serial) or every certificate of an order. Reasons:\n"
        "unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation.\n"
        "Without --skip-approval a request waits for approval (`request approve ID`).\n";
    struct revoke_args a;
    struct dc_revoked r;
    memset(&a, 0, sizeof a);
    int rc = cc_parse(x, argc, argv, opts, usage, 0, revoke_opt, &a);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    if ((a.cert == NULL) == (a.order == NULL))
        return cli_usage(x->cmd, "give exactly one of --cert ID and --order ID");
    rc = cc_open(x);
    if (rc != CLI_DONE)
        return rc;
    enum mc_err err = dc_revoke(x->c, a.cert != NULL ? a.cert : a.order, a.order != NULL,
                                a.comments, a.reason, a.skip, &r);
    if (err != MC_OK)
        return cc_fail(x, "the revocation was refused", err);
    cJSON *j = cJSON_CreateObject();
    if (r.pending) {
        cli_say(x->g, "certcli %s: revocation request %lld waits for approval", x->cmd,
                (long long)r.request_id);
        if (j != NULL) {
            cJSON_AddNumberToObject(j, "request_id", (double)r.request_id);
            if (r.status != NULL)
                cJSON_AddStringToObject(j, "request_status", r.status);
        }
    } else {
        cli_say(x->g, "certcli %s: revoked", x->cmd);
    }
    rc = cc_emit(x, r.pending ? "pending" : "revoked", j, CLI_DONE);
    dc_revoked_free(&r);
    return rc;
}

/* ---- request -------------------------------------------------------------------------- */

static int cc_request(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {{"comment", required_argument, NULL, O_COMMENT},
                                         CC_HELP_OPT, CC_END_OPT};
    static const char usage[] =
        "Usage: certcli certcentral request approve|reject|show ID [--comment TEXT]\n"
        "       certcli certcentral request list [pending|approved|rejected|submitted]\n"
        "Approves or rejects a request waiting for approval (PUT /request/ID/status), or\n"
        "shows it; list shows the account's requests (optionally of one status). An\n"
        "administrator key is needed to approve.\n";
    const char *comment = NULL, *action, *id;
    cJSON *j = NULL;
    enum mc_err err;
    int rc = cc_parse(x, argc, argv, opts, usage, -1, note_opt, &comment);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    if (argc - optind >= 1 && strcmp(argv[optind], "list") == 0 && argc - optind <= 2) {
        rc = cc_open(x);
        if (rc != CLI_DONE)
            return rc;
        err = dc_request_list(x->c, argc - optind == 2 ? argv[optind + 1] : NULL, NULL, &j);
        if (err != MC_OK)
            return cc_fail(x, "cannot list the requests", err);
        return cc_show(x, j);
    }
    if (argc - optind != 2)
        return cli_usage(x->cmd, "wants 2 arguments");
    action = argv[optind];
    id = argv[optind + 1];
    if (strcmp(action, "show") != 0 && strcmp(action, "approve") != 0 &&
        strcmp(action, "reject") != 0)
        return cli_usage(x->cmd, "unknown request action '%s' (approve, reject, show)", action);
    rc = cc_open(x);
    if (rc != CLI_DONE)
        return rc;
    if (strcmp(action, "show") == 0) {
        err = dc_request_info(x->c, id, &j);
        if (err != MC_OK)
            return cc_fail(x, "cannot get the request", err);
        return cc_show(x, j);
    }
    const char *st = strcmp(action, "approve") == 0 ? "approved" : "rejected";
    err = dc_request_status(x->c, id, st, comment);
    if (err != MC_OK)
        return cc_fail(x, "the request status change was refused", err);
    cli_say(x->g, "certcli %s: request %s %s", x->cmd, id, st);
    j = cJSON_CreateObject();
    if (j != NULL)
        cJSON_AddStringToObject(j, "request_id", id);
    return cc_emit(x, st, j, CLI_DONE);
}

/* ---- authkey -------------------------------------------------------------------------- */

static int days_opt(struct ccx *x, int c, void *arg)
{
    if (c != O_DAYS2)
        return CLI_USAGE;
    return cc_long(x->cmd, "--days", optarg, 1, 36500, arg);
}

static cJSON *cc_authkey_json(const struct dc_authkey *k)
{
    cJSON *j = cJSON_CreateObject();
    if (j == NULL)
        return NULL;
    cJSON_AddStringToObject(j, "auth_key_id", k->id);
    cJSON_AddStringToObject(j, "auth_key", k->key);
    if (k->expiration != NULL)
        cJSON_AddStringToObject(j, "expiration_datetime", k->expiration);
    return j;
}

static int cc_authkey(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {{"days", required_argument, NULL, O_DAYS2}, CC_HELP_OPT,
                                         CC_END_OPT};
    static const char usage[] =
        "Usage: certcli certcentral authkey create [--days N] | show [ID] | list | delete [ID]\n"
        "The account's AuthKey for request tokens (instant DV). create makes the account's one\n"
        "key, or a key that expires after --days; the key is printed on stdout (it is a\n"
        "secret: store it as one). delete voids every request token made with it.\n";
    long days = 0;
    struct dc_authkey k;
    cJSON *j = NULL;
    enum mc_err err;
    const char *action, *id;
    int rc = cc_parse(x, argc, argv, opts, usage, -1, days_opt, &days);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    if (argc - optind < 1 || argc - optind > 2)
        return cli_usage(x->cmd, "wants create, show [ID], list or delete [ID]");
    action = argv[optind];
    id = argc - optind == 2 ? argv[optind + 1] : NULL;
    if ((strcmp(action, "create") == 0 || strcmp(action, "list") == 0) && id != NULL)
        return cli_usage(x->cmd, "authkey %s takes no id", action);
    memset(&k, 0, sizeof k);
    rc = cc_open(x);
    if (rc != CLI_DONE)
        return rc;
    if (strcmp(action, "create") == 0 || strcmp(action, "show") == 0) {
        err = strcmp(action, "create") == 0 ? dc_authkey_create(x->c, days, &k)
                                            : dc_authkey_show(x->c, id, &k);
        if (err != MC_OK)
            return cc_fail(x, "the AuthKey call was refused", err);
        if (!x->g->json)
            printf("%s %s\n", k.id, k.key);
        rc = cc_emit(x, strcmp(action, "create") == 0 ? "created" : "ok", cc_authkey_json(&k),
                     CLI_DONE);
        dc_authkey_free(&k);
        return rc;
    }
    if (strcmp(action, "list") == 0) {
        err = dc_authkey_list(x->c, &j);
        if (err != MC_OK)
            return cc_fail(x, "cannot list the AuthKeys", err);
        return cc_show(x, j);
    }
    if (strcmp(action, "delete") == 0) {
        err = dc_authkey_delete(x->c, id);
        if (err != MC_OK)
            return cc_fail(x, "cannot delete the AuthKey", err);
        cli_say(x->g, "certcli %s: AuthKey deleted", x->cmd);
        return cc_emit(x, "deleted", NULL, CLI_DONE);
    }
    return cli_usage(x->cmd, "unknown authkey action '%s'", action);
}

/* ---- token and instant-dv ------------------------------------------------------------- */

struct tok_args {
    struct cli_solver_opts so;
    const char *auth_key, *ak_file, *ts, *csr, *key, *new_key, *out, *product, *method, *cn;
    const char *sans[CC_MAX_LIST];
    size_t nsans;
    bool at_name;
    long years, platform;
};

static int tok_opt(struct ccx *x, int c, void *arg)
{
    struct tok_args *a = arg;
    int k = cli_solver_opt(&a->so, c, optarg, x->cmd);
    if (k == 1)
        return CLI_DONE;
    if (k < 0)
        return CLI_USAGE;
    switch (c) {
    case O_AUTHKEY: a->auth_key = optarg; return CLI_DONE;
    case O_AKFILE: a->ak_file = optarg; return CLI_DONE;
    case O_TS: a->ts = optarg; return CLI_DONE;
    case O_CSR: a->csr = optarg; return CLI_DONE;
    case O_KEY: a->key = optarg; return CLI_DONE;
    case O_NEWKEY: a->new_key = optarg; return CLI_DONE;
    case O_OUT: a->out = optarg; return CLI_DONE;
    case O_PRODUCT: a->product = optarg; return CLI_DONE;
    case O_METHOD2: a->method = optarg; return CLI_DONE;
    case O_CN: a->cn = optarg; return CLI_DONE;
    case O_DNS: return cc_push(x->cmd, a->sans, &a->nsans, optarg);
    case O_ATNAME: a->at_name = true; return CLI_DONE;
    case O_YEARS: return cc_long(x->cmd, "--years", optarg, 1, 3, &a->years);
    case O_PLATFORM: return cc_long(x->cmd, "--platform", optarg, -1, 100000, &a->platform);
    }
    return CLI_USAGE; /* cc_parse answers getopt's '?' and ':' itself */
}

/* The AuthKey from --auth-key or --auth-key-file (trimmed), or NULL (ask the API). */
static int tok_key(struct ccx *x, const struct tok_args *a, char **out)
{
    size_t len = 0;
    *out = NULL;
    if (a->auth_key != NULL && a->ak_file != NULL)
        return cli_usage(x->cmd, "give one of --auth-key and --auth-key-file");
    if (a->auth_key != NULL) {
        *out = strdup(a->auth_key);
        return *out != NULL ? CLI_DONE : cc_fail(x, "out of memory", MC_ERR_NOMEM);
    }
    if (a->ak_file == NULL)
        return CLI_DONE;
    enum mc_err err = file_read_all(a->ak_file, 4096, out, &len);
    if (err != MC_OK)
        return cc_fail(x, "cannot read --auth-key-file", err);
    while (len > 0 && isspace((unsigned char)(*out)[len - 1]))
        (*out)[--len] = '\0';
    return CLI_DONE;
}

static const struct option tok_opts[] = {
    CLI_SOLVER_LONGOPTS,
    {"auth-key", required_argument, NULL, O_AUTHKEY},
    {"auth-key-file", required_argument, NULL, O_AKFILE},
    {"timestamp", required_argument, NULL, O_TS},
    {"csr", required_argument, NULL, O_CSR},
    {"key", required_argument, NULL, O_KEY},
    {"new-key", required_argument, NULL, O_NEWKEY},
    {"out", required_argument, NULL, O_OUT},
    {"product", required_argument, NULL, O_PRODUCT},
    {"method", required_argument, NULL, O_METHOD2},
    {"cn", required_argument, NULL, O_CN},
    {"dns-name", required_argument, NULL, O_DNS},
    {"txt-at-name", no_argument, NULL, O_ATNAME},
    {"years", required_argument, NULL, O_YEARS},
    {"platform", required_argument, NULL, O_PLATFORM},
    CC_HELP_OPT,
    CC_END_OPT};

static int cc_token(struct ccx *x, int argc, char **argv)
{
    static const char usage[] =
        "Usage: certcli certcentral token (--csr FILE | --cn NAME --key FILE)\n"
        "       [--auth-key KEY | --auth-key-file FILE] [--timestamp yyyyMMddHHmmss]\n"
        "Prints the AuthKey request token for the CSR: the timestamp (default: now) and the\n"
        "base36 HMAC-SHA256 of timestamp+CSR keyed with the AuthKey, 64 characters. Without\n"
        "--auth-key* the account's AuthKey is fetched from the API. Place it in a TXT record\n"
        "(NAME or _dnsauth.NAME) or in /.well-known/pki-validation/fileauth.txt.\n";
    struct tok_args a;
    char *key = NULL, *csr = NULL, ts[15];
    char tok[DC_TOKEN_LEN + 1];
    struct dc_authkey ak;
    enum mc_err err;
    int rc;

    memset(&a, 0, sizeof a);
    memset(&ak, 0, sizeof ak);
    cli_solver_opts_init(&a.so);
    rc = cc_parse(x, argc, argv, tok_opts, usage, 0, tok_opt, &a);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    if (a.new_key != NULL)
        return cli_usage(x->cmd, "a token is for a CSR you have: --csr or --key");
    rc = tok_key(x, &a, &key);
    if (rc == CLI_DONE)
        rc = cc_csr(x, a.csr, a.key, NULL, a.cn, a.sans, a.nsans, &csr);
    if (rc != CLI_DONE)
        goto out;
    if (a.ts != NULL)
        snprintf(ts, sizeof ts, "%s", a.ts);
    else
        dc_timestamp(clock_now(NULL), ts);
    if (key == NULL) {
        rc = cc_open(x);
        if (rc != CLI_DONE)
            goto out;
        err = dc_authkey_show(x->c, NULL, &ak);
        if (err != MC_OK) {
            rc = cc_fail(x, "cannot get the account's AuthKey", err);
            goto out;
        }
    }
    err = dc_request_token(key != NULL ? key : ak.key, ts, csr, tok);
    if (err == MC_ERR_INVALID || (a.ts != NULL && strlen(a.ts) != 14)) {
        rc = cli_usage(x->cmd, "--timestamp wants 14 digits yyyyMMddHHmmss");
        goto out;
    }
    if (err != MC_OK) {
        rc = cc_fail(x, "cannot compute the token", err);
        goto out;
    }
    if (!x->g->json)
        printf("%s\n", tok);
    cJSON *j = cJSON_CreateObject();
    if (j != NULL) {
        cJSON_AddStringToObject(j, "token", tok);
        cJSON_AddStringToObject(j, "timestamp", ts);
    }
    rc = cc_emit(x, "ok", j, CLI_DONE);
out:
    dc_authkey_free(&ak);
    free(key);
    free(csr);
    return rc;
}

static int cc_instant(struct ccx *x, int argc, char **argv)
{
    static const char usage[] =
        "Usage: certcli certcentral instant-dv --cn NAME [--dns-name N]...\n"
        "       (--csr FILE | --key FILE | --new-key FILE) --out CHAIN [--product ID]\n"
        "       [--method dns-txt-token|http-token] [--auth-key KEY | --auth-key-file FILE]\n"
        "       [--txt-at-name] [--years N] [--platform ID] SOLVER OPTIONS\n"
        "Instant DV issuance (DigiCert's AuthKey workflow): computes the request token for\n"
        "the CSR, places it for every name (TXT at _dnsauth.NAME, or NAME with --txt-at-name,\n"
        "with --dns-mgmt/--dns-rfc2136/--dns-hook; fileauth.txt with --webroot or --http),\n"
        "places the DV order (default ssl_dv_geotrust) with use_auth_key, saves the chain to\n"
        "--out and takes the token away again. The AuthKey is fetched when not given.\n"
        "Exit status 1 with result \"pending\" when CertCentral did not issue at once (a\n"
        "stale, missing or wrong token): the order then waits for the usual DCV.\n";
    struct tok_args a;
    struct cc_solvers s = {NULL, 0};
    struct dc_placer p;
    struct dc_order_req r;
    struct dc_placed pl;
    char *key = NULL, *csr = NULL;
    bool issued = false;
    enum mc_err err;
    int rc;

    memset(&a, 0, sizeof a);
    memset(&pl, 0, sizeof pl);
    cli_solver_opts_init(&a.so);
    rc = cc_parse(x, argc, argv, tok_opts, usage, 0, tok_opt, &a);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    if (a.cn == NULL || a.out == NULL)
        return cli_usage(x->cmd, "--cn NAME and --out FILE are required");
    if (a.ts != NULL)
        return cli_usage(x->cmd, "--timestamp is for `token`; instant-dv stamps the token now");
    if (!cli_solver_any(&a.so))
        return cli_usage(x->cmd, "choose where to place the token: --dns-mgmt, --dns-rfc2136, "
                                 "--dns-hook, --webroot or --http");
    if (a.method == NULL)
        a.method = cc_method_for(&a.so);
    if (a.method == NULL || (strcmp(a.method, "dns-txt-token") != 0 &&
                             strcmp(a.method, "http-token") != 0))
        return cli_usage(x->cmd, "--method is dns-txt-token or http-token");
    rc = tok_key(x, &a, &key);
    if (rc == CLI_DONE)
        rc = cc_csr(x, a.csr, a.key, a.new_key, a.cn, a.sans, a.nsans, &csr);
    if (rc == CLI_DONE)
        rc = cc_open(x);
    if (rc != CLI_DONE)
        goto out;
    err = cli_solvers_new(&a.so, x->cmd, &s.v, &s.n);
    if (err != MC_OK) {
        rc = CLI_FAILED;
        goto out;
    }
    cc_placer(&s, a.at_name, &p);
    dc_order_req_init(&r);
    r.product = a.product != NULL ? a.product : "ssl_dv_geotrust";
    r.common_name = a.cn;
    r.dns_names = a.sans;
    r.n_dns_names = a.nsans;
    r.csr = csr;
    r.dcv_method = a.method;
    r.validity.years = (int)a.years;
    r.server_platform_id = a.platform;
    err = dc_instant_dv(x->c, &r, key, 0, &p, a.out, &pl, &issued);
    if (err != MC_OK) {
        rc = cc_fail(x, "instant DV issuance failed", err);
        goto out;
    }
    cJSON *j = cc_placed_json(&pl);
    if (issued) {
        cli_say(x->g, "certcli %s: order %lld issued at once; chain written to %s", x->cmd,
                (long long)pl.id, a.out);
        if (j != NULL)
            cJSON_AddStringToObject(j, "path", a.out);
        rc = cc_emit(x, "issued", j, CLI_DONE);
    } else {
        fprintf(stderr,
                "certcli %s: order %lld was placed but not issued at once (the request token "
                "was not accepted); it waits for DCV with random value %s\n",
                x->cmd, (long long)pl.id,
                pl.dcv_random_value != NULL ? pl.dcv_random_value : "(none)");
        rc = cc_emit(x, "pending", j, CLI_FAILED);
    }
out:
    dc_placed_free(&pl);
    cli_solvers_free(s.v, s.n);
    if (key != NULL) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
    }
    free(csr);
    return rc;
}

/* ---- organizations and domains ------------------------------------------------------- */

struct org_args {
    struct dc_org_req r;
    const char *types[4];
    size_t ntypes;
};

enum { O_ORG_NAME = CLI_OPT_LOCAL + 300, O_ORG_ASSUMED, O_ORG_ADDR, O_ORG_ADDR2, O_ORG_CITY,
       O_ORG_STATE, O_ORG_ZIP, O_ORG_COUNTRY, O_ORG_TEL, O_ORG_CFIRST, O_ORG_CLAST, O_ORG_CEMAIL,
       O_ORG_TYPE, O_DOM_ORG, O_DOM_METHOD, O_DOM_SEARCH };

static int org_opt(struct ccx *x, int c, void *arg)
{
    struct org_args *a = arg;
    const char **slot = NULL;
    switch (c) {
    case O_ORG_NAME: slot = &a->r.name; break;
    case O_ORG_ASSUMED: slot = &a->r.assumed_name; break;
    case O_ORG_ADDR: slot = &a->r.address; break;
    case O_ORG_ADDR2: slot = &a->r.address2; break;
    case O_ORG_CITY: slot = &a->r.city; break;
    case O_ORG_STATE: slot = &a->r.state; break;
    case O_ORG_ZIP: slot = &a->r.zip; break;
    case O_ORG_COUNTRY: slot = &a->r.country; break;
    case O_ORG_TEL: slot = &a->r.telephone; break;
    case O_ORG_CFIRST: slot = &a->r.contact_first_name; break;
    case O_ORG_CLAST: slot = &a->r.contact_last_name; break;
    case O_ORG_CEMAIL: slot = &a->r.contact_email; break;
    case O_ORG_TYPE:
        if (strcmp(optarg, "ov") != 0 && strcmp(optarg, "ev") != 0)
            return cli_usage(x->cmd, "--type is ov or ev");
        if (a->ntypes >= sizeof a->types / sizeof a->types[0])
            return cli_usage(x->cmd, "too many --type");
        a->types[a->ntypes++] = optarg;
        return CLI_DONE;
    default:
        return CLI_USAGE;
    }
    *slot = optarg;
    return CLI_DONE;
}

static int cc_org(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, O_ORG_NAME},
        {"assumed-name", required_argument, NULL, O_ORG_ASSUMED},
        {"address", required_argument, NULL, O_ORG_ADDR},
        {"address2", required_argument, NULL, O_ORG_ADDR2},
        {"city", required_argument, NULL, O_ORG_CITY},
        {"state", required_argument, NULL, O_ORG_STATE},
        {"zip", required_argument, NULL, O_ORG_ZIP},
        {"country", required_argument, NULL, O_ORG_COUNTRY},
        {"telephone", required_argument, NULL, O_ORG_TEL},
        {"contact-first-name", required_argument, NULL, O_ORG_CFIRST},
        {"contact-last-name", required_argument, NULL, O_ORG_CLAST},
        {"contact-email", required_argument, NULL, O_ORG_CEMAIL},
        {"type", required_argument, NULL, O_ORG_TYPE},
        CC_HELP_OPT,
        CC_END_OPT};
    static const char usage[] =
        "Usage: certcli certcentral org list\n"
        "       certcli certcentral org show ID\n"
        "       certcli certcentral org create --name N --address A --city C --country CC\n"
        "               [--assumed-name N] [--address2 A] [--state S] [--zip Z]\n"
        "               [--telephone T] [--contact-first-name F --contact-last-name L\n"
        "               --contact-email E]\n"
        "       certcli certcentral org validation ID [--type ov|ev]...\n"
        "Organizations (OV/EV orders need a validated one). create prints the new id;\n"
        "validation shows the validation states, or with --type submits those types.\n";
    struct org_args a;
    const char *action;
    cJSON *j = NULL;
    enum mc_err err;
    int64_t id = 0;
    int rc;

    memset(&a, 0, sizeof a);
    rc = cc_parse(x, argc, argv, opts, usage, -1, org_opt, &a);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    if (argc - optind < 1)
        return cli_usage(x->cmd, "which org action? (list, show, create, validation)");
    action = argv[optind];
    if (strcmp(action, "list") == 0 || strcmp(action, "create") == 0) {
        if (argc - optind != 1)
            return cli_usage(x->cmd, "org %s takes no argument", action);
    } else if (strcmp(action, "show") == 0 || strcmp(action, "validation") == 0) {
        if (argc - optind != 2)
            return cli_usage(x->cmd, "org %s wants an organization id", action);
    } else {
        return cli_usage(x->cmd, "unknown org action '%s' (list, show, create, validation)",
                         action);
    }
    if (strcmp(action, "create") == 0 &&
        (a.r.name == NULL || a.r.address == NULL || a.r.city == NULL || a.r.country == NULL))
        return cli_usage(x->cmd, "org create wants --name, --address, --city and --country");
    rc = cc_open(x);
    if (rc != CLI_DONE)
        return rc;
    if (strcmp(action, "list") == 0) {
        err = dc_org_list(x->c, &j);
        if (err != MC_OK)
            return cc_fail(x, "cannot list the organizations", err);
        return cc_show(x, j);
    }
    if (strcmp(action, "show") == 0) {
        err = dc_org_info(x->c, argv[optind + 1], &j);
        if (err != MC_OK)
            return cc_fail(x, "cannot get the organization", err);
        return cc_show(x, j);
    }
    if (strcmp(action, "create") == 0) {
        err = dc_org_create(x->c, &a.r, &id);
        if (err != MC_OK)
            return cc_fail(x, "cannot create the organization", err);
        if (!x->g->json)
            printf("%lld\n", (long long)id);
        j = cJSON_CreateObject();
        if (j != NULL)
            cJSON_AddNumberToObject(j, "id", (double)id);
        return cc_emit(x, "created", j, CLI_DONE);
    }
    if (a.ntypes > 0) {
        err = dc_org_validation_submit(x->c, argv[optind + 1], a.types, a.ntypes);
        if (err != MC_OK)
            return cc_fail(x, "the validation request was refused", err);
        cli_say(x->g, "certcli %s: validation submitted", x->cmd);
        return cc_emit(x, "submitted", NULL, CLI_DONE);
    }
    err = dc_org_validation(x->c, argv[optind + 1], &j);
    if (err != MC_OK)
        return cc_fail(x, "cannot get the organization's validation", err);
    return cc_show(x, j);
}

struct dom_args {
    int64_t org;
    const char *method, *search;
};

static int dom_opt(struct ccx *x, int c, void *arg)
{
    struct dom_args *a = arg;
    long v = 0;
    int rc;
    switch (c) {
    case O_DOM_ORG:
        rc = cc_long(x->cmd, "--org", optarg, 1, 2147483647L, &v);
        a->org = v;
        return rc;
    case O_DOM_METHOD:
        a->method = optarg;
        return CLI_DONE;
    case O_DOM_SEARCH:
        a->search = optarg;
        return CLI_DONE;
    default:
        return CLI_USAGE;
    }
}

static int cc_domain(struct ccx *x, int argc, char **argv)
{
    static const struct option opts[] = {{"org", required_argument, NULL, O_DOM_ORG},
                                         {"method", required_argument, NULL, O_DOM_METHOD},
                                         {"search", required_argument, NULL, O_DOM_SEARCH},
                                         CC_HELP_OPT,
                                         CC_END_OPT};
    static const char usage[] =
        "Usage: certcli certcentral domain list [--search TEXT]\n"
        "       certcli certcentral domain show ID\n"
        "       certcli certcentral domain create NAME --org ID [--method M]\n"
        "       certcli certcentral domain validate ID     (check the domain's DCV token)\n"
        "       certcli certcentral domain token ID        (a new domain random value)\n"
        "       certcli certcentral domain method ID --method M\n"
        "Domains of the account (OV/EV prevalidation, A4 f-j).\n";
    struct dom_args a;
    const char *action, *arg1;
    cJSON *j = NULL;
    enum mc_err err = MC_OK;
    int rc;

    memset(&a, 0, sizeof a);
    rc = cc_parse(x, argc, argv, opts, usage, -1, dom_opt, &a);
    if (rc != CLI_DONE)
        return rc < 0 ? CLI_DONE : rc;
    if (argc - optind < 1)
        return cli_usage(x->cmd, "which domain action? (list, show, create, validate, token, "
                                 "method)");
    action = argv[optind];
    if (strcmp(action, "list") == 0) {
        if (argc - optind != 1)
            return cli_usage(x->cmd, "domain list takes no argument");
    } else if (strcmp(action, "show") == 0 || strcmp(action, "create") == 0 ||
               strcmp(action, "validate") == 0 || strcmp(action, "token") == 0 ||
               strcmp(action, "method") == 0) {
        if (argc - optind != 2)
            return cli_usage(x->cmd, "domain %s wants one argument", action);
    } else {
        return cli_usage(x->cmd, "unknown domain action '%s'", action);
    }
    arg1 = argc - optind == 2 ? argv[optind + 1] : NULL;
    if (strcmp(action, "create") == 0 && a.org == 0)
        return cli_usage(x->cmd, "domain create wants --org ID");
    if (strcmp(action, "method") == 0 && a.method == NULL)
        return cli_usage(x->cmd, "domain method wants --method M");
    rc = cc_open(x);
    if (rc != CLI_DONE)
        return rc;
    if (strcmp(action, "list") == 0)
        err = dc_domain_list(x->c, a.search, &j);
    else if (strcmp(action, "show") == 0)
        err = dc_domain_info(x->c, arg1, &j);
    else if (strcmp(action, "create") == 0)
        err = dc_domain_create(x->c, arg1, a.org, a.method, &j);
    else if (strcmp(action, "validate") == 0)
        err = dc_domain_validate(x->c, arg1, &j);
    else if (strcmp(action, "token") == 0)
        err = dc_domain_token(x->c, arg1, &j);
    else
        err = dc_domain_method(x->c, arg1, a.method, &j);
    if (err != MC_OK)
        return cc_fail(x, strcmp(action, "validate") == 0 ? "the domain's DCV check failed"
                                                          : "the domain call failed",
                       err);
    return cc_show(x, j);
}

/* ---- the front ------------------------------------------------------------------------ */

struct cc_action {
    const char *name;
    int (*run)(struct ccx *x, int argc, char **argv);
};

static const struct cc_action actions[] = {
    {"order", cc_order},       {"info", cc_info},         {"list", cc_list},
    {"cancel", cc_cancel},     {"dcv", cc_dcv},           {"watch", cc_watch},
    {"download", cc_download}, {"reissue", cc_reissue},   {"revoke", cc_revoke},
    {"request", cc_request},   {"authkey", cc_authkey},   {"token", cc_token},
    {"instant-dv", cc_instant}, {"org", cc_org},           {"domain", cc_domain},
};

enum { F_KEY = CLI_OPT_LOCAL, F_KEYFILE, F_BASE };

int cmd_certcentral(int argc, char **argv, const struct cli_globals *g)
{
    static const struct option opts[] = {
        {"api-key", required_argument, NULL, F_KEY},
        {"api-key-file", required_argument, NULL, F_KEYFILE},
        {"base-url", required_argument, NULL, F_BASE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ccx x;
    const char *key_file = NULL;
    size_t len = 0;
    int c, rc = CLI_USAGE;

    memset(&x, 0, sizeof x);
    x.g = g;
    snprintf(x.cmd, sizeof x.cmd, "%s", argc > 0 && strcmp(argv[0], "cc") == 0 ? "cc" : "certcentral");
    optind = 0;
    opterr = 0;
    /* '+': stop at the action; its options are its own. */
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(help, stdout);
            return CLI_DONE;
        case F_KEY:
            x.api_key = optarg;
            break;
        case F_KEYFILE:
            key_file = optarg;
            break;
        case F_BASE:
            x.base_url = optarg;
            break;
        default:
            return cli_bad_option(x.cmd, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage(x.cmd, "which action? (order, info, list, cancel, dcv, watch, download, "
                                "reissue, revoke, request, authkey, token, instant-dv, org, "
                                "domain)");
    if (x.api_key != NULL && key_file != NULL)
        return cli_usage(x.cmd, "give one of --api-key and --api-key-file");
    if (key_file != NULL) {
        enum mc_err err = file_read_all(key_file, 1024, &x.api_key_owned, &len);
        if (err != MC_OK) {
            fprintf(stderr, "certcli %s: cannot read --api-key-file: %s\n", x.cmd, mc_strerror(err));
            return CLI_FAILED;
        }
        /* A key file usually ends in a newline. */
        while (len > 0 && isspace((unsigned char)x.api_key_owned[len - 1]))
            x.api_key_owned[--len] = '\0';
        x.api_key = x.api_key_owned;
    }
    if (x.api_key == NULL)
        x.api_key = getenv("DIGICERT_API_KEY");
    if (x.base_url == NULL)
        x.base_url = getenv("DIGICERT_BASE_URL");
    const char *name = argv[optind];
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        if (strcmp(name, actions[i].name) != 0)
            continue;
        /* Both parts are ours (the alias and the table's name): short and bounded. */
        snprintf(x.cmd, sizeof x.cmd, "%s %s", strcmp(x.cmd, "cc") == 0 ? "cc" : "certcentral",
                 actions[i].name);
        rc = actions[i].run(&x, argc - optind, argv + optind);
        goto out;
    }
    rc = cli_usage(x.cmd, "unknown action '%s'", name);
out:
    dc_free(x.c);
    if (x.api_key_owned != NULL) {
        OPENSSL_cleanse(x.api_key_owned, strlen(x.api_key_owned));
        free(x.api_key_owned);
    }
    return rc;
}
