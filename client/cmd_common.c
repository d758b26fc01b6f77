/* cmd_common.c: the parts of the certcli front end several subcommands share (see
 * cmd_common.h). */
#include "client/cmd_common.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/lineage.h"
#include "client/registration.h"
#include "common/ari.h"
#include "common/b64url.h"
#include "common/clock.h"
#include "common/jose.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/x509.h"

extern char **environ;

/* ---- command-line plumbing ------------------------------------------------------------ */

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "certcli %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'certcli %s --help'.\n", cmd);
    return CLI_USAGE;
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
    /* getopt has advanced optind past the offending word (or past the option whose value
     * was missing), so it is the previous one. */
    const char *word = optind > 0 ? argv[optind - 1] : "?";
    static const char *const globals[] = {"--server", "--dir",  "--ca-bundle", "--insecure",
                                          "--json",   "--seed", "--quiet",     "--verbose"};
    if (c == ':')
        return cli_usage(cmd, "option '%s' needs a value", word);
    for (size_t i = 0; word != NULL && i < sizeof(globals) / sizeof(globals[0]); i++) {
        size_t n = strlen(globals[i]);
        if (strncmp(word, globals[i], n) == 0 && (word[n] == '\0' || word[n] == '='))
            return cli_usage(cmd,
                             "'%s' is a global option: put it before the command "
                             "(certcli %s ... %s ...)",
                             globals[i], globals[i], cmd);
    }
    if (optopt != 0 && (word == NULL || word[0] != '-' || word[1] == '-'))
        return cli_usage(cmd, "unknown option '-%c'", optopt);
    return cli_usage(cmd, "unknown option '%s'", word);
}

void cli_say(const struct cli_globals *g, const char *fmt, ...)
{
    va_list ap;
    if (g->verbosity < 0)
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_json_emit(cJSON *obj)
{
    char *text = NULL;
    if (obj == NULL)
        return;
    text = cJSON_PrintUnformatted(obj);
    if (text != NULL) {
        fputs(text, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(text);
    cJSON_Delete(obj);
}

enum mc_err cli_parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    long v;
    if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
        return MC_ERR_INVALID;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return MC_ERR_INVALID;
    *out = v;
    return MC_OK;
}

/* n decimal digits at s into *out; false if any is not a digit. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

enum mc_err cli_parse_rfc3339(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0;
    long offset = 0;
    struct tm tm;
    time_t t;

    if (s == NULL || strlen(s) < 20 || strlen(s) > 40)
        return MC_ERR_INVALID;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return MC_ERR_INVALID;
    s += 19;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return MC_ERR_INVALID;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
        offset = 0;
    } else if ((s[0] == '+' || s[0] == '-') && digits(s + 1, 2, &oh) && s[3] == ':' &&
               digits(s + 4, 2, &om) && s[6] == '\0' && oh < 24 && om < 60) {
        offset = (oh * 3600L + om * 60L) * (s[0] == '-' ? -1 : 1);
    } else {
        return MC_ERR_INVALID;
    }
    /* 60 is a leap second; time_t has none, so it reads as the next second's 0. */
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return MC_ERR_INVALID;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d) /* timegm turns Feb 30 into March */
        return MC_ERR_INVALID;
    *out = (int64_t)t - offset;
    return MC_OK;
}

const char *cli_fmt_time(int64_t secs, char *buf, size_t n)
{
    struct tm tm;
    time_t t = (time_t)secs;
    if (n < 21 || gmtime_r(&t, &tm) == NULL) {
        if (n > 0)
            buf[0] = '\0';
        return buf;
    }
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* ---- failures ----------------------------------------------------------------------- */

/* Errors that come back from talking to the server, where the session knows more. */
static bool from_server(enum mc_err err)
{
    return err == MC_ERR_PROBLEM || err == MC_ERR_IO || err == MC_ERR_TIMEOUT ||
           err == MC_ERR_TOO_BIG || err == MC_ERR_INVALID || err == MC_ERR_MISMATCH ||
           err == MC_ERR_UNSUPPORTED;
}

cJSON *cli_failure(struct sess *s, const char *cmd, const char *what, enum mc_err err)
{
    return cli_failure_problem(s, NULL, cmd, what, err);
}

cJSON *cli_failure_problem(struct sess *s, const struct sess_problem *p, const char *cmd,
                           const char *what, enum mc_err err)
{
    cJSON *j = cJSON_CreateObject();
    fprintf(stderr, "certcli %s: %s: %s\n", cmd, what, mc_strerror(err));
    if (j != NULL) {
        cJSON_AddStringToObject(j, "error", what);
        cJSON_AddStringToObject(j, "reason", mc_strerror(err));
    }
    if (p == NULL && (s == NULL || !from_server(err)))
        return j;
    if (p == NULL)
        p = sess_last_problem(s);
    if (p == NULL && err == MC_ERR_TIMEOUT)
        return j; /* a wait of ours ran out (polling, DNS propagation): logged above */
    if (p == NULL) {
        /* A transport error, or a malformed answer: the session says which. */
        fprintf(stderr, "  server: %s\n", sess_last_error(s));
        if (j != NULL)
            cJSON_AddStringToObject(j, "detail", sess_last_error(s));
        return j;
    }
    fprintf(stderr, "  problem: %s (HTTP %ld)%s%s\n", p->type ? p->type : "about:blank", p->status,
            p->detail ? ": " : "", p->detail ? p->detail : "");
    for (size_t i = 0; i < p->n_sub; i++)
        fprintf(stderr, "  subproblem: %s%s%s%s%s\n", p->sub[i].type ? p->sub[i].type : "?",
                p->sub[i].ident_value ? " for " : "",
                p->sub[i].ident_value ? p->sub[i].ident_value : "", p->sub[i].detail ? ": " : "",
                p->sub[i].detail ? p->sub[i].detail : "");
    if (p->retry_after_s >= 0)
        fprintf(stderr, "  retry after: %ld s\n", p->retry_after_s);
    if (j != NULL) {
        cJSON *pj = cJSON_AddObjectToObject(j, "problem");
        cJSON *subs = pj ? cJSON_AddArrayToObject(pj, "subproblems") : NULL;
        if (pj != NULL) {
            cJSON_AddStringToObject(pj, "type", p->type ? p->type : "about:blank");
            if (p->detail != NULL)
                cJSON_AddStringToObject(pj, "detail", p->detail);
            cJSON_AddNumberToObject(pj, "status", (double)p->status);
            if (p->retry_after_s >= 0)
                cJSON_AddNumberToObject(pj, "retry_after", (double)p->retry_after_s);
        }
        for (size_t i = 0; subs != NULL && i < p->n_sub; i++) {
            cJSON *sj = cJSON_CreateObject();
            if (sj == NULL)
                break;
            if (p->sub[i].type)
                cJSON_AddStringToObject(sj, "type", p->sub[i].type);
            if (p->sub[i].detail)
                cJSON_AddStringToObject(sj, "detail", p->sub[i].detail);
            if (p->sub[i].ident_value)
                cJSON_AddStringToObject(sj, "identifier", p->sub[i].ident_value);
            cJSON_AddItemToArray(subs, sj);
        }
    }
    return j;
}

int cli_fail(const struct cli_globals *g, struct sess *s, const char *cmd, const char *what,
             enum mc_err err)
{
    cJSON *j = cli_failure(s, cmd, what, err);
    if (g->json && j != NULL) {
        cJSON_AddStringToObject(j, "result", "failed");
        cJSON_AddStringToObject(j, "command", cmd);
        cli_json_emit(j);
        j = NULL;
    }
    cJSON_Delete(j);
    return CLI_FAILED;
}

/* ---- session and account ------------------------------------------------------------ */

int cli_session_open(const struct cli_globals *g, const char *cmd, struct sess **out)
{
    struct sess_opts o;
    enum mc_err err;
    char what[SESS_MAX_URL + 64];

    sess_opts_init(&o);
    o.directory_url = g->server;
    o.ca_bundle = g->ca_bundle;
    o.insecure = g->insecure;
    o.seed = g->seed;
    /* The polling progress line is for a person at a terminal, not for --json or -q. */
    o.progress = !g->json && g->verbosity >= 0;
    err = sess_new(&o, out);
    if (err == MC_OK)
        return CLI_DONE;
    *out = NULL;
    snprintf(what, sizeof(what), "cannot open the ACME directory %s", g->server);
    /* No session to ask: say what usually causes each error. */
    if (err == MC_ERR_IO)
        fprintf(stderr,
                "certcli %s: (transport or TLS failure: is the server up, and is its "
                "root in --ca-bundle?)\n",
                cmd);
    return cli_fail(g, NULL, cmd, what, err);
}

const char cli_account_help[] =
    "Account options:\n"
    "  --email ADDR         a contact, sent as mailto:ADDR (repeatable)\n"
    "  --contact URL        a contact URL as it is, e.g. mailto:a@example.com (repeatable)\n"
    "  --agree-tos          agree to the CA's terms of service (required when the\n"
    "                       directory lists termsOfService)\n"
    "  --eab-kid KID        External Account Binding key identifier (RFC 8555 7.3.4)\n"
    "  --eab-hmac KEY       its MAC key, base64url as the CA gives it\n"
    "  --eab-alg ALG        HS256 (default), HS384 or HS512\n";

void cli_acct_opts_free(struct cli_acct_opts *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n_contacts; i++)
        free(o->contacts[i]);
    o->n_contacts = 0;
}

static int add_contact(struct cli_acct_opts *o, const char *prefix, const char *v, const char *cmd)
{
    size_t n;
    char *c;
    if (o->n_contacts >= CLI_MAX_CONTACTS) {
        cli_usage(cmd, "at most %d contacts", CLI_MAX_CONTACTS);
        return -1;
    }
    if (v[0] == '\0' || strlen(v) > 512 || strpbrk(v, " \t\r\n,") != NULL) {
        cli_usage(cmd, "bad contact '%s'", v);
        return -1;
    }
    if (strcmp(prefix, "mailto:") == 0 && strchr(v, '@') == NULL) {
        cli_usage(cmd, "--email '%s' is not an address", v);
        return -1;
    }
    n = strlen(prefix) + strlen(v) + 1;
    c = malloc(n);
    if (c == NULL) {
        fprintf(stderr, "certcli %s: out of memory\n", cmd);
        return -1;
    }
    snprintf(c, n, "%s%s", prefix, v);
    o->contacts[o->n_contacts++] = c;
    return 1;
}

int cli_acct_opt(struct cli_acct_opts *o, int c, const char *arg, const char *cmd)
{
    switch (c) {
    case CLI_OPT_EMAIL:
        return add_contact(o, "mailto:", arg, cmd);
    case CLI_OPT_CONTACT:
        if (strchr(arg, ':') == NULL) {
            cli_usage(cmd, "--contact '%s' is not a URL (mailto:...)", arg);
            return -1;
        }
        return add_contact(o, "", arg, cmd);
    case CLI_OPT_AGREE_TOS:
        o->agree_tos = true;
        return 1;
    case CLI_OPT_EAB_KID:
        o->eab_kid = arg;
        return 1;
    case CLI_OPT_EAB_HMAC:
        o->eab_hmac = arg;
        return 1;
    case CLI_OPT_EAB_ALG:
        o->eab_alg = arg;
        return 1;
    default:
        return 0;
    }
}

static enum mc_err eab_alg(const struct cli_acct_opts *o, enum jose_alg *alg)
{
    *alg = JOSE_ALG_HS256;
    if (o->eab_alg == NULL)
        return MC_OK;
    if (jose_alg_parse(o->eab_alg, alg) != MC_OK || !jose_alg_is_hmac(*alg))
        return MC_ERR_INVALID;
    return MC_OK;
}

int cli_acct_check(const struct cli_acct_opts *o, const char *cmd)
{
    enum jose_alg alg;
    uint8_t *mac = NULL;
    size_t n = 0;
    bool ok;
    if ((o->eab_kid == NULL) != (o->eab_hmac == NULL))
        return cli_usage(cmd, "--eab-kid and --eab-hmac go together");
    if (eab_alg(o, &alg) != MC_OK)
        return cli_usage(cmd, "--eab-alg must be HS256, HS384 or HS512");
    if (o->eab_alg != NULL && o->eab_kid == NULL)
        return cli_usage(cmd, "--eab-alg needs --eab-kid and --eab-hmac");
    if (o->eab_hmac == NULL)
        return CLI_DONE;
    /* CAs hand the MAC key out as base64url; a '=' padded copy is a common paste. */
    ok = b64url_decode(o->eab_hmac, strcspn(o->eab_hmac, "="), &mac, &n) == MC_OK && n > 0;
    free(mac);
    if (!ok)
        return cli_usage(cmd, "--eab-hmac is not base64url");
    return CLI_DONE;
}

int cli_account_register(const struct cli_globals *g, struct sess *s, const char *cmd,
                         const struct cli_acct_opts *o, EVP_PKEY *key, bool *created,
                         cJSON **account, cJSON **failure)
{
    const struct sess_dir *d = sess_directory(s);
    struct reg_new req;
    uint8_t *mac = NULL;
    size_t mac_len = 0;
    enum mc_err err;
    int rc = CLI_FAILED;
    bool made = false;

    if (failure != NULL)
        *failure = NULL;
    if (d->terms_of_service != NULL && !o->agree_tos) {
        rc = cli_usage(cmd,
                       "the CA asks for agreement to its terms of service (%s): "
                       "add --agree-tos",
                       d->terms_of_service);
        goto out;
    }
    if (d->eab_required && o->eab_kid == NULL) {
        rc = cli_usage(cmd, "the CA requires External Account Binding: add --eab-kid and "
                            "--eab-hmac");
        goto out;
    }
    memset(&req, 0, sizeof(req));
    req.contacts = (const char *const *)o->contacts;
    req.n_contacts = o->n_contacts;
    req.agree_tos = o->agree_tos;
    if (o->eab_kid != NULL) {
        err = b64url_decode(o->eab_hmac, strcspn(o->eab_hmac, "="), &mac, &mac_len);
        if (err == MC_OK)
            err = eab_alg(o, &req.eab_alg);
        if (err != MC_OK) {
            rc = cli_usage(cmd, "bad --eab-hmac or --eab-alg");
            goto out;
        }
        req.eab_kid = o->eab_kid;
        req.eab_hmac = mac;
        req.eab_hmac_len = mac_len;
    }
    err = sess_set_account(s, key, NULL);
    if (err != MC_OK) {
        cJSON *f = cli_failure(NULL, cmd, "cannot use the account key", err);
        if (failure != NULL)
            *failure = f;
        else
            cJSON_Delete(f);
        goto out;
    }
    err = reg_register(s, &req, &made, account);
    if (err != MC_OK) {
        cJSON *f = cli_failure(s, cmd, "newAccount refused", err);
        if (failure != NULL)
            *failure = f;
        else
            cJSON_Delete(f);
        goto out;
    }
    err = reg_store_save(g->state_dir, g->server, key, sess_kid(s));
    if (err != MC_OK) {
        cJSON *f = cli_failure(NULL, cmd,
                               "the account was registered but cannot be saved in "
                               "the state dir",
                               err);
        if (failure != NULL)
            *failure = f;
        else
            cJSON_Delete(f);
        goto out;
    }
    if (created != NULL)
        *created = made;
    rc = CLI_DONE;
out:
    if (mac != NULL)
        OPENSSL_cleanse(mac, mac_len);
    free(mac);
    return rc;
}

enum mc_err cli_account_load(const struct cli_globals *g, struct sess *s, const char *cmd)
{
    EVP_PKEY *key = NULL;
    char *kid = NULL;
    enum mc_err err;

    err = reg_store_load(g->state_dir, g->server, &key, &kid);
    if (err == MC_ERR_NOT_FOUND)
        goto out;
    if (err != MC_OK) {
        cJSON_Delete(cli_failure(NULL, cmd, "cannot read the saved account", err));
        goto out;
    }
    err = sess_set_account(s, key, kid);
    if (err != MC_OK) {
        cJSON_Delete(cli_failure(NULL, cmd, "cannot use the saved account key", err));
        goto out;
    }
    if (kid == NULL) {
        /* Only the key was saved (an import, or a crash after keyChange): find the URL. */
        struct reg_new req;
        memset(&req, 0, sizeof(req));
        req.only_existing = true;
        err = reg_register(s, &req, NULL, NULL);
        if (err == MC_OK)
            err = reg_store_save(g->state_dir, g->server, key, sess_kid(s));
        if (err != MC_OK)
            cJSON_Delete(cli_failure(s, cmd, "cannot find the account of the saved key", err));
    }
out:
    EVP_PKEY_free(key);
    free(kid);
    return err;
}

enum mc_err cli_account_dir(const struct cli_globals *g, char **out)
{
    /* The layout registration.h documents: DIR/accounts/HOST_PORT, HOST_PORT the URL's
     * authority with every byte outside [A-Za-z0-9.-] turned into '_', and the scheme's
     * default port added when the URL has none (as registration.c does). */
    const char *p = strstr(g->server, "://");
    bool https = strncasecmp(g->server, "https://", 8) == 0;
    const char *auth;
    size_t n, base;
    bool has_port;
    char *s = NULL;

    auth = p != NULL ? p + 3 : g->server;
    n = strcspn(auth, "/?#");
    if (auth[0] == '[') {
        const char *rb = memchr(auth, ']', n);
        has_port = rb != NULL && rb + 1 < auth + n && rb[1] == ':';
    } else {
        has_port = memchr(auth, ':', n) != NULL;
    }
    if (asprintf(&s, "%s/accounts/%.*s%s", g->state_dir, (int)n, auth,
                 has_port ? ""
                 : https  ? ":443"
                          : ":80") < 0)
        return MC_ERR_NOMEM;
    base = strlen(g->state_dir) + strlen("/accounts/");
    for (char *c = s + base; *c != '\0'; c++) {
        bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= '0' && *c <= '9') || *c == '.' || *c == '-';
        if (!ok)
            *c = '_';
    }
    *out = s;
    return MC_OK;
}

/* ---- solvers ------------------------------------------------------------------------ */

const char cli_solver_help[] =
    "Challenge solvers (at least one; each authorization uses the first that fits, in\n"
    "this order):\n"
    "  --http PORT          http-01: a built-in HTTP server on PORT (0: any free port)\n"
    "  --http-address ADDR  its listen address (default 0.0.0.0)\n"
    "  --webroot DIR        http-01: files in DIR/.well-known/acme-challenge/\n"
    "  --alpn PORT          tls-alpn-01: a built-in TLS server (ALPN acme-tls/1) on PORT\n"
    "  --alpn-address ADDR  its listen address (default 0.0.0.0)\n"
    "  --dns-mgmt URL       dns-01 through a dnsmock / pebble-challtestsrv management API\n"
    "  --dns-rfc2136 SERVER dns-01 through RFC 2136 UPDATE to SERVER (IP or IP:PORT)\n"
    "    --zone ZONE        the zone to update (default: found through SOA)\n"
    "    --tsig-name NAME --tsig-alg ALG --tsig-secret BASE64   sign updates with TSIG\n"
    "                       (ALG: hmac-sha256 and the like)\n"
    "  --dns-hook PROGRAM   dns-01 through PROGRAM present|cleanup FQDN VALUE, with\n"
    "                       CERTCLI_ACTION, CERTCLI_DOMAIN, CERTCLI_FQDN, CERTCLI_TXT_VALUE,\n"
    "                       CERTCLI_TOKEN, CERTCLI_KEY_AUTH, CERTCLI_CHALLENGE set\n"
    "    --dns-hook-timeout S   kill the hook after S seconds (default 60)\n"
    "DNS propagation check (dns-01: wait until every authoritative server of the zone\n"
    "answers the TXT record before the CA is asked to validate):\n"
    "  --dns-resolver IP[:PORT]  the resolver that finds the zone's NS and their addresses\n"
    "                       (default: the first of /etc/resolv.conf)\n"
    "  --dns-auth-port N    port to ask the authoritative servers on (default 53)\n"
    "  --dns-timeout S      give up after S seconds (default 120)\n"
    "  --no-propagation-check  tell the CA at once\n"
    "Afterwards:\n"
    "  --deploy-hook CMD    run CMD (through /bin/sh -c) after each certificate is saved,\n"
    "                       with CERTCLI_LINEAGE (its folder), CERTCLI_LINEAGE_NAME,\n"
    "                       CERTCLI_DOMAINS (space separated), CERTCLI_CERT, CERTCLI_CHAIN,\n"
    "                       CERTCLI_FULLCHAIN, CERTCLI_KEY; its output goes to stderr\n"
    "  --hook-timeout S     kill the deploy hook after S seconds (default 120)\n"
    "  --poll-timeout S     give up waiting for an authorization or the order after S\n"
    "                       seconds (default 300)\n";

void cli_solver_opts_init(struct cli_solver_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->http_port = -1;
    o->alpn_port = -1;
}

static int opt_long(const char *arg, long min, long max, long *out, const char *cmd,
                    const char *name)
{
    if (cli_parse_long(arg, min, max, out) != MC_OK) {
        cli_usage(cmd, "%s wants a number from %ld to %ld, not '%s'", name, min, max, arg);
        return -1;
    }
    return 1;
}

int cli_solver_opt(struct cli_solver_opts *o, int c, const char *arg, const char *cmd)
{
    switch (c) {
    case CLI_OPT_HTTP:
        return opt_long(arg, 0, 65535, &o->http_port, cmd, "--http");
    case CLI_OPT_HTTP_ADDRESS:
        o->http_address = arg;
        return 1;
    case CLI_OPT_WEBROOT:
        o->webroot = arg;
        return 1;
    case CLI_OPT_ALPN:
        return opt_long(arg, 0, 65535, &o->alpn_port, cmd, "--alpn");
    case CLI_OPT_ALPN_ADDRESS:
        o->alpn_address = arg;
        return 1;
    case CLI_OPT_DNS_MGMT:
        if (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0) {
            cli_usage(cmd, "--dns-mgmt wants an http:// or https:// URL, not '%s'", arg);
            return -1;
        }
        o->dns_mgmt = arg;
        return 1;
    case CLI_OPT_DNS_RFC2136:
        o->rfc2136 = arg;
        return 1;
    case CLI_OPT_TSIG_NAME:
        o->tsig_name = arg;
        return 1;
    case CLI_OPT_TSIG_ALG:
        o->tsig_alg = arg;
        return 1;
    case CLI_OPT_TSIG_SECRET:
        o->tsig_secret = arg;
        return 1;
    case CLI_OPT_ZONE:
        o->zone = arg;
        return 1;
    case CLI_OPT_DNS_HOOK:
        o->dns_hook = arg;
        return 1;
    case CLI_OPT_DNS_HOOK_TIMEOUT:
        return opt_long(arg, 1, 3600, &o->dns_hook_timeout, cmd, "--dns-hook-timeout");
    case CLI_OPT_DNS_RESOLVER:
        o->dns_resolver = arg;
        return 1;
    case CLI_OPT_DNS_AUTH_PORT:
        return opt_long(arg, 1, 65535, &o->dns_auth_port, cmd, "--dns-auth-port");
    case CLI_OPT_DNS_TIMEOUT:
        return opt_long(arg, 1, 3600, &o->dns_timeout, cmd, "--dns-timeout");
    case CLI_OPT_NO_PROP:
        o->no_propagation_check = true;
        return 1;
    case CLI_OPT_DEPLOY_HOOK:
        o->deploy_hook = arg;
        return 1;
    case CLI_OPT_HOOK_TIMEOUT:
        return opt_long(arg, 1, 86400, &o->hook_timeout, cmd, "--hook-timeout");
    case CLI_OPT_POLL_TIMEOUT:
        return opt_long(arg, 1, 86400, &o->poll_timeout, cmd, "--poll-timeout");
    default:
        return 0;
    }
}

bool cli_solver_any(const struct cli_solver_opts *o)
{
    return o->http_port >= 0 || o->webroot != NULL || o->alpn_port >= 0 || o->dns_mgmt != NULL ||
           o->rfc2136 != NULL || o->dns_hook != NULL;
}

int cli_solver_check(const struct cli_solver_opts *o, const char *cmd, bool from_meta)
{
    bool dns = o->dns_mgmt != NULL || o->rfc2136 != NULL || o->dns_hook != NULL;
    if (o->http_port > 0 && o->http_port == o->alpn_port)
        return cli_usage(cmd, "--http and --alpn cannot listen on the same port");
    if (o->http_address != NULL && o->http_port < 0)
        return cli_usage(cmd, "--http-address goes with --http PORT");
    if (o->alpn_address != NULL && o->alpn_port < 0)
        return cli_usage(cmd, "--alpn-address goes with --alpn PORT");
    if (o->dns_hook_timeout > 0 && o->dns_hook == NULL && !from_meta)
        return cli_usage(cmd, "--dns-hook-timeout goes with --dns-hook");
    if ((o->tsig_name != NULL) != (o->tsig_secret != NULL) && !from_meta)
        return cli_usage(cmd, "--tsig-name and --tsig-secret go together");
    /* In renew, a lone --tsig-secret completes the RFC 2136 solver meta.json remembers. */
    if ((o->tsig_name || o->tsig_alg || o->zone || (o->tsig_secret && !from_meta)) &&
        o->rfc2136 == NULL && !from_meta)
        return cli_usage(cmd, "--zone and --tsig-* go with --dns-rfc2136");
    if ((o->dns_resolver || o->dns_auth_port || o->dns_timeout || o->no_propagation_check) &&
        !dns && !from_meta)
        return cli_usage(cmd, "--dns-resolver, --dns-auth-port, --dns-timeout and "
                              "--no-propagation-check go with a dns-01 solver");
    return CLI_DONE;
}

static void dns_config(const struct cli_solver_opts *o, struct solver_config *c)
{
    c->prop.enabled = !o->no_propagation_check;
    c->prop.resolver = o->dns_resolver;
    c->prop.auth_port = (uint16_t)(o->dns_auth_port > 0 ? o->dns_auth_port : 53);
    c->prop.timeout_s = o->dns_timeout > 0 ? o->dns_timeout : 120;
    c->prop.interval_ms = 1000;
}

enum mc_err cli_solvers_new(const struct cli_solver_opts *o, const char *cmd, struct solver ***out,
                            size_t *n)
{
    struct solver_config cfg[6];
    const char *names[6];
    struct solver **v = NULL;
    size_t k = 0, made = 0;
    enum mc_err err = MC_OK;

    *out = NULL;
    *n = 0;
    memset(cfg, 0, sizeof(cfg));
    if (o->http_port >= 0) {
        cfg[k].kind = SOLVER_HTTP_STANDALONE;
        cfg[k].address = o->http_address;
        cfg[k].port = (uint16_t)o->http_port;
        names[k++] = "http-01 standalone (--http)";
    }
    if (o->webroot != NULL) {
        cfg[k].kind = SOLVER_HTTP_WEBROOT;
        cfg[k].webroot = o->webroot;
        names[k++] = "http-01 webroot (--webroot)";
    }
    if (o->alpn_port >= 0) {
        cfg[k].kind = SOLVER_ALPN_STANDALONE;
        cfg[k].address = o->alpn_address;
        cfg[k].port = (uint16_t)o->alpn_port;
        names[k++] = "tls-alpn-01 standalone (--alpn)";
    }
    if (o->dns_mgmt != NULL) {
        cfg[k].kind = SOLVER_DNS_MGMT;
        cfg[k].mgmt_url = o->dns_mgmt;
        dns_config(o, &cfg[k]);
        names[k++] = "dns-01 management API (--dns-mgmt)";
    }
    if (o->rfc2136 != NULL) {
        cfg[k].kind = SOLVER_DNS_RFC2136;
        cfg[k].server = o->rfc2136;
        cfg[k].zone = o->zone;
        cfg[k].tsig_name = o->tsig_name;
        cfg[k].tsig_alg = o->tsig_alg;
        cfg[k].tsig_secret = o->tsig_secret;
        dns_config(o, &cfg[k]);
        names[k++] = "dns-01 RFC 2136 (--dns-rfc2136)";
    }
    if (o->dns_hook != NULL) {
        cfg[k].kind = SOLVER_DNS_HOOK;
        cfg[k].hook = o->dns_hook;
        cfg[k].hook_timeout_s = o->dns_hook_timeout;
        dns_config(o, &cfg[k]);
        names[k++] = "dns-01 hook (--dns-hook)";
    }
    v = calloc(k > 0 ? k : 1, sizeof(*v));
    if (v == NULL)
        return MC_ERR_NOMEM;
    for (made = 0; made < k; made++) {
        err = solver_new(&cfg[made], &v[made]);
        if (err != MC_OK) {
            char what[128];
            snprintf(what, sizeof(what), "cannot start the %s solver", names[made]);
            cJSON_Delete(cli_failure(NULL, cmd, what, err));
            cli_solvers_free(v, made);
            return err;
        }
    }
    *out = v;
    *n = k;
    return MC_OK;
}

void cli_solvers_free(struct solver **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        solver_free(v[i]);
    free(v);
}

cJSON *cli_solver_to_json(const struct cli_solver_opts *o)
{
    cJSON *j = cJSON_CreateObject();
    if (j == NULL)
        return NULL;
    if (o->http_port >= 0)
        cJSON_AddNumberToObject(j, "http", (double)o->http_port);
    if (o->http_address)
        cJSON_AddStringToObject(j, "http_address", o->http_address);
    if (o->webroot)
        cJSON_AddStringToObject(j, "webroot", o->webroot);
    if (o->alpn_port >= 0)
        cJSON_AddNumberToObject(j, "alpn", (double)o->alpn_port);
    if (o->alpn_address)
        cJSON_AddStringToObject(j, "alpn_address", o->alpn_address);
    if (o->dns_mgmt)
        cJSON_AddStringToObject(j, "dns_mgmt", o->dns_mgmt);
    if (o->rfc2136)
        cJSON_AddStringToObject(j, "dns_rfc2136", o->rfc2136);
    if (o->zone)
        cJSON_AddStringToObject(j, "zone", o->zone);
    /* The TSIG secret stays out of meta.json: renew takes it from --tsig-secret. */
    if (o->tsig_name)
        cJSON_AddStringToObject(j, "tsig_name", o->tsig_name);
    if (o->tsig_alg)
        cJSON_AddStringToObject(j, "tsig_alg", o->tsig_alg);
    if (o->dns_hook)
        cJSON_AddStringToObject(j, "dns_hook", o->dns_hook);
    if (o->dns_hook_timeout > 0)
        cJSON_AddNumberToObject(j, "dns_hook_timeout", (double)o->dns_hook_timeout);
    if (o->dns_resolver)
        cJSON_AddStringToObject(j, "dns_resolver", o->dns_resolver);
    if (o->dns_auth_port > 0)
        cJSON_AddNumberToObject(j, "dns_auth_port", (double)o->dns_auth_port);
    if (o->dns_timeout > 0)
        cJSON_AddNumberToObject(j, "dns_timeout", (double)o->dns_timeout);
    if (o->no_propagation_check)
        cJSON_AddBoolToObject(j, "no_propagation_check", true);
    return j;
}

static void get_str(const cJSON *j, const char *k, const char **out)
{
    const char *v = NULL;
    if (json_get_string(j, k, &v) == MC_OK)
        *out = v;
}

static void get_long(const cJSON *j, const char *k, long max, long *out)
{
    int64_t v = 0;
    if (json_get_int(j, k, 0, max, &v) == MC_OK)
        *out = (long)v;
}

void cli_solver_from_json(const cJSON *j, struct cli_solver_opts *o)
{
    bool b = false;
    if (!cJSON_IsObject(j))
        return;
    get_long(j, "http", 65535, &o->http_port);
    get_str(j, "http_address", &o->http_address);
    get_str(j, "webroot", &o->webroot);
    get_long(j, "alpn", 65535, &o->alpn_port);
    get_str(j, "alpn_address", &o->alpn_address);
    get_str(j, "dns_mgmt", &o->dns_mgmt);
    get_str(j, "dns_rfc2136", &o->rfc2136);
    get_str(j, "zone", &o->zone);
    get_str(j, "tsig_name", &o->tsig_name);
    get_str(j, "tsig_alg", &o->tsig_alg);
    get_str(j, "dns_hook", &o->dns_hook);
    get_long(j, "dns_hook_timeout", 3600, &o->dns_hook_timeout);
    get_str(j, "dns_resolver", &o->dns_resolver);
    get_long(j, "dns_auth_port", 65535, &o->dns_auth_port);
    get_long(j, "dns_timeout", 3600, &o->dns_timeout);
    if (json_get_bool(j, "no_propagation_check", &b) == MC_OK)
        o->no_propagation_check = b;
}

const char *cli_solver_challenges(const struct cli_solver_opts *o, char *buf, size_t n)
{
    bool http = o->http_port >= 0 || o->webroot != NULL;
    bool alpn = o->alpn_port >= 0;
    bool dns = o->dns_mgmt != NULL || o->rfc2136 != NULL || o->dns_hook != NULL;
    snprintf(buf, n, "%s%s%s%s%s", http ? "http-01" : "", http && (alpn || dns) ? "," : "",
             alpn ? "tls-alpn-01" : "", alpn && dns ? "," : "", dns ? "dns-01" : "");
    return buf;
}

/* ---- lineages ----------------------------------------------------------------------- */

enum mc_err cli_certs_dir(const struct cli_globals *g, char **out)
{
    if (asprintf(out, "%s/certs", g->state_dir) < 0) {
        *out = NULL;
        return MC_ERR_NOMEM;
    }
    return MC_OK;
}

cJSON *cli_idents_to_json(const struct ident_list *l)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && i < l->n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (o == NULL) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddStringToObject(o, "type", l->v[i].type == IDENT_IP ? "ip" : "dns");
        cJSON_AddStringToObject(o, "value", l->v[i].value);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

enum mc_err cli_idents_from_json(const cJSON *arr, struct ident_list *out)
{
    const cJSON *it;
    enum mc_err err = MC_OK;
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 ||
        cJSON_GetArraySize(arr) > IDENT_MAX_COUNT)
        return MC_ERR_INVALID;
    cJSON_ArrayForEach(it, arr)
    {
        const char *type = NULL, *value = NULL;
        if (!cJSON_IsObject(it) || json_get_string(it, "type", &type) != MC_OK ||
            json_get_string(it, "value", &value) != MC_OK) {
            err = MC_ERR_INVALID;
            break;
        }
        if (strcmp(type, "dns") == 0)
            err = ident_list_add(out, IDENT_DNS, value);
        else if (strcmp(type, "ip") == 0)
            err = ident_list_add(out, IDENT_IP, value);
        else
            err = MC_ERR_INVALID;
        if (err != MC_OK)
            break;
    }
    if (err != MC_OK)
        ident_list_free(out);
    return err;
}

static void add_time(cJSON *o, const char *k, int64_t t)
{
    char buf[40];
    if (t > 0)
        cJSON_AddStringToObject(o, k, cli_fmt_time(t, buf, sizeof(buf)));
    else
        cJSON_AddNullToObject(o, k);
}

/* Builds meta.json for a certificate just issued: lineage_meta_new's layout (lineage.h),
 * plus what renew needs to repeat the order without the user's flags (the solvers, the
 * deploy hook, must-staple) and what a person checks (issuer, the certificate replaced). */
static enum mc_err build_meta(const struct cli_globals *g, struct sess *s,
                              const struct cli_order *o, const struct issue_result *res,
                              const struct ari_window *w, cJSON **out)
{
    struct lineage_meta_in in;
    cJSON *m = NULL, *sol = NULL;
    EVP_PKEY *pub = o->cert_key != NULL ? o->cert_key : X509_get0_pubkey(res->leaf);
    enum key_type kt;
    char ch[64];
    enum mc_err err;

    memset(&in, 0, sizeof(in));
    in.name = o->name;
    in.directory = g->server;
    in.account = sess_kid(s);
    in.idents = o->idents;
    in.key_type = pub != NULL && key_classify(pub, &kt) == MC_OK ? key_type_name(kt) : NULL;
    in.profile = o->profile;
    in.preferred_chain = o->preferred_chain;
    in.challenge = cli_solver_challenges(o->solvers, ch, sizeof(ch));
    in.issued_at = cli_now(g);
    in.leaf = res->leaf;
    in.order_url = res->order_url;
    in.cert_url = res->cert_url;
    err = lineage_meta_new(&in, &m);
    if (err != MC_OK)
        return err;
    if (res->issuer_cn)
        cJSON_AddStringToObject(m, "issuer", res->issuer_cn);
    if (o->replaces)
        cJSON_AddStringToObject(m, "replaced", o->replaces);
    cJSON_AddBoolToObject(m, "csr", o->csr != NULL);
    cJSON_AddBoolToObject(m, "must_staple", o->must_staple);
    sol = cli_solver_to_json(o->solvers);
    if (sol == NULL || !cJSON_AddItemToObject(m, "solver", sol)) {
        cJSON_Delete(sol);
        cJSON_Delete(m);
        return MC_ERR_NOMEM;
    }
    if (o->solvers->deploy_hook)
        cJSON_AddStringToObject(m, "deploy_hook", o->solvers->deploy_hook);
    err = lineage_meta_set_ari(m, w->start, w->end, w->explanation_url, w->next_check);
    if (err != MC_OK) {
        cJSON_Delete(m);
        return err;
    }
    *out = m;
    return MC_OK;
}

int cli_obtain(const struct cli_globals *g, struct sess *s, const char *cmd,
               const struct cli_order *o, cJSON **result)
{
    struct solver **solvers = NULL;
    size_t n_solvers = 0;
    struct issue_req req;
    struct issue_result res;
    struct ari_window w;
    char *serial = NULL, *ari_id = NULL, *certs = NULL;
    cJSON *meta = NULL, *r = NULL;
    int64_t nb = 0, na = 0;
    enum mc_err err;
    int rc = CLI_FAILED;
    char buf[40], ch[64];

    memset(&res, 0, sizeof(res));
    memset(&w, 0, sizeof(w));
    *result = NULL;

    err = cli_certs_dir(g, &certs);
    if (err != MC_OK) {
        r = cli_failure(NULL, cmd, "out of memory", err);
        goto out;
    }
    err = cli_solvers_new(o->solvers, cmd, &solvers, &n_solvers);
    if (err != MC_OK) {
        r = cJSON_CreateObject();
        if (r != NULL) {
            cJSON_AddStringToObject(r, "error", "cannot start a challenge solver");
            cJSON_AddStringToObject(r, "reason", mc_strerror(err));
        }
        goto out;
    }
    memset(&req, 0, sizeof(req));
    req.idents = *o->idents;
    req.csr = o->csr;
    req.cert_key = o->cert_key;
    req.must_staple = o->must_staple;
    req.profile = o->profile;
    req.not_before = o->not_before;
    req.not_after = o->not_after;
    req.replaces = o->replaces;
    req.preferred_chain = o->preferred_chain;
    req.solvers = solvers;
    req.n_solvers = n_solvers;
    req.poll_timeout_s = o->solvers->poll_timeout;
    cli_say(g, "certcli %s: ordering %s (%zu identifier%s)%s%s", cmd, o->name, o->idents->n,
            o->idents->n == 1 ? "" : "s", o->replaces ? ", replacing " : "",
            o->replaces ? o->replaces : "");
    err = issue_cert(s, &req, &res);
    /* The solvers go now: their listeners must not outlive the order, and a deploy hook
     * may want the ports they held (a web server reloading). */
    cli_solvers_free(solvers, n_solvers);
    solvers = NULL;
    if (err != MC_OK) {
        const char *what =
            err == MC_ERR_UNSUPPORTED ? "no chosen solver answers a challenge the CA offers"
            : err == MC_ERR_MISMATCH  ? "the CSR or the certificate does not match the identifiers"
                                      : "the order failed";
        /* An invalid authorization or order: its error document is in res.problem (the
         * poll that saw it succeeded, so the session holds no problem). */
        r = cli_failure_problem(s, res.problem, cmd, what, err);
        goto out;
    }
    err = x509_validity(res.leaf, &nb, &na);
    if (err == MC_OK)
        err = x509_serial_hex(res.leaf, &serial);
    if (err != MC_OK) {
        r = cli_failure(NULL, cmd, "cannot read the issued certificate", err);
        goto out;
    }
    if (ari_cert_id(res.leaf, &ari_id) != MC_OK)
        ari_id = NULL; /* no AKI: no ARI for this one, the lifetime rule still applies */
    if (ari_id != NULL && sess_directory(s)->renewal_info != NULL) {
        /* Ask now, so the first renew run knows the window; a CA that cannot answer yet
         * only costs a later question. */
        err = renew_fetch_ari(s, res.leaf, cli_now(g), &w);
        if (err != MC_OK) {
            fprintf(stderr, "certcli %s: note: no renewal information yet (%s)\n", cmd,
                    sess_last_error(s));
            memset(&w, 0, sizeof(w));
        }
    }
    err = build_meta(g, s, o, &res, &w, &meta);
    if (err == MC_OK)
        err =
            lineage_write(certs, o->name, res.chain_pem, o->csr != NULL ? NULL : o->cert_key, meta);
    if (err != MC_OK) {
        r = cli_failure(NULL, cmd, "the certificate was issued but cannot be saved", err);
        goto out;
    }
    cli_say(g, "certcli %s: saved %s/%s (serial %s, valid until %s)", cmd, certs, o->name, serial,
            cli_fmt_time(na, buf, sizeof(buf)));

    r = cJSON_CreateObject();
    if (r == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    cJSON_AddStringToObject(r, "lineage", o->name);
    {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", certs, o->name);
        cJSON_AddStringToObject(r, "path", path);
    }
    cJSON_AddItemToObject(r, "identifiers", cli_idents_to_json(o->idents));
    cJSON_AddStringToObject(r, "serial", serial);
    add_time(r, "not_before", nb);
    add_time(r, "not_after", na);
    if (res.issuer_cn)
        cJSON_AddStringToObject(r, "issuer", res.issuer_cn);
    cJSON_AddStringToObject(r, "challenge", cli_solver_challenges(o->solvers, ch, sizeof(ch)));
    if (ari_id)
        cJSON_AddStringToObject(r, "ari_id", ari_id);
    if (o->replaces)
        cJSON_AddStringToObject(r, "replaced", o->replaces);
    if (res.order_url)
        cJSON_AddStringToObject(r, "order_url", res.order_url);
    {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(meta, "ari");
        if (a != NULL)
            cJSON_AddItemToObject(r, "ari", cJSON_Duplicate(a, true));
    }

    if (o->solvers->deploy_hook != NULL) {
        long t = o->solvers->hook_timeout > 0 ? o->solvers->hook_timeout : CLI_HOOK_TIMEOUT_DEFAULT;
        err =
            cli_deploy_hook(o->solvers->deploy_hook, certs, o->name, o->idents, o->csr == NULL, t);
        cJSON_AddBoolToObject(r, "deploy_hook_ok", err == MC_OK);
        if (err != MC_OK) {
            /* The certificate is saved; the exit status still says someone must look. */
            cJSON *f = cli_failure(NULL, cmd,
                                   "the certificate is saved, but the deploy hook "
                                   "failed",
                                   err);
            if (f != NULL) {
                cJSON_AddItemToObject(f, "lineage", cJSON_CreateString(o->name));
                cJSON_AddItemToObject(f, "path",
                                      cJSON_Duplicate(cJSON_GetObjectItem(r, "path"), false));
            }
            cJSON_Delete(r);
            r = f;
            goto out;
        }
    }
    rc = CLI_DONE;
out:
    cli_solvers_free(solvers, n_solvers);
    issue_result_free(&res);
    ari_window_free(&w);
    cJSON_Delete(meta);
    free(serial);
    free(ari_id);
    free(certs);
    *result = r;
    return rc;
}

/* ---- deploy hook -------------------------------------------------------------------- */

static char *env_pair(const char *k, const char *dir, const char *name, const char *file)
{
    char *s = NULL;
    int n;
    if (file != NULL)
        n = asprintf(&s, "%s=%s/%s/%s", k, dir, name, file);
    else if (name != NULL)
        n = asprintf(&s, "%s=%s/%s", k, dir, name);
    else
        n = asprintf(&s, "%s=%s", k, dir);
    return n < 0 ? NULL : s;
}

enum mc_err cli_deploy_hook(const char *program, const char *certs_dir, const char *name,
                            const struct ident_list *ids, bool has_key, long timeout_s)
{
    char *ours[8] = {NULL};
    size_t n_ours = 0, n_env = 0, k = 0, dlen = 0;
    char **envp = NULL;
    char *domains = NULL;
    enum mc_err err = MC_ERR_NOMEM;
    pid_t pid;
    int status = 0;
    int64_t deadline;

    for (size_t i = 0; i < ids->n; i++)
        dlen += strlen(ids->v[i].value) + 1;
    domains = calloc(1, dlen + 1);
    if (domains == NULL)
        goto out;
    for (size_t i = 0, at = 0; i < ids->n; i++) {
        size_t vl = strlen(ids->v[i].value);
        if (i > 0)
            domains[at++] = ' ';
        memcpy(domains + at, ids->v[i].value, vl);
        at += vl;
    }
    ours[n_ours++] = env_pair("CERTCLI_LINEAGE", certs_dir, name, NULL);
    ours[n_ours++] = env_pair("CERTCLI_LINEAGE_NAME", name, NULL, NULL);
    ours[n_ours++] = env_pair("CERTCLI_DOMAINS", domains, NULL, NULL);
    ours[n_ours++] = env_pair("CERTCLI_CERT", certs_dir, name, "cert.pem");
    ours[n_ours++] = env_pair("CERTCLI_CHAIN", certs_dir, name, "chain.pem");
    ours[n_ours++] = env_pair("CERTCLI_FULLCHAIN", certs_dir, name, "fullchain.pem");
    if (has_key)
        ours[n_ours++] = env_pair("CERTCLI_KEY", certs_dir, name, "privkey.pem");
    for (size_t i = 0; i < n_ours; i++)
        if (ours[i] == NULL)
            goto out;
    /* The environment is built before fork: after fork only async-signal-safe calls are
     * allowed, and solver threads may have held the allocator's lock. */
    while (environ != NULL && environ[n_env] != NULL)
        n_env++;
    envp = calloc(n_env + n_ours + 1, sizeof(*envp));
    if (envp == NULL)
        goto out;
    for (size_t i = 0; i < n_env; i++)
        if (strncmp(environ[i], "CERTCLI_", 8) != 0) /* ours only, never stale ones */
            envp[k++] = environ[i];
    for (size_t i = 0; i < n_ours; i++)
        envp[k++] = ours[i];
    envp[k] = NULL;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        err = MC_ERR_IO;
        goto out;
    }
    if (pid == 0) {
        char *argv[] = {"sh", "-c", (char *)program, NULL};
        setpgid(0, 0);
        dup2(STDERR_FILENO, STDOUT_FILENO); /* stdout is for certcli's --json object */
        execve("/bin/sh", argv, envp);
        _exit(127);
    }
    setpgid(pid, pid); /* both sides set it, so whichever runs first, the group exists */
    deadline = clock_now_ms(NULL) + (int64_t)timeout_s * 1000;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            err = MC_ERR_IO;
            goto out;
        }
        if (clock_now_ms(NULL) >= deadline) {
            fprintf(stderr, "certcli: deploy hook ran over %ld s: killed\n", timeout_s);
            kill(-pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            err = MC_ERR_TIMEOUT;
            goto out;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        err = MC_OK;
    } else {
        if (WIFEXITED(status))
            fprintf(stderr, "certcli: deploy hook exited with status %d\n", WEXITSTATUS(status));
        else
            fprintf(stderr, "certcli: deploy hook was killed by signal %d\n",
                    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        err = MC_ERR_IO;
    }
out:
    for (size_t i = 0; i < n_ours; i++)
        free(ours[i]);
    free(envp);
    free(domains);
    return err;
}

int64_t cli_now(const struct cli_globals *g)
{
    return clock_now(NULL) + (g != NULL ? g->now_offset : 0);
}
