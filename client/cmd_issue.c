/* cmd_issue.c: `certcli issue` (alias `certonly`): one certificate (RFC 8555 sections 7.4
 * to 7.4.2) for DNS names (wildcards through dns-01) and IP addresses (RFC 8738), with a
 * key generated here or the user's CSR, answered by the solvers the flags choose, saved as
 * a lineage (lineage.h) with its meta.json, then the deploy hook. An account is registered
 * on the way when none is saved for the server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cmd_common.h"
#include "client/lineage.h"
#include "common/file.h"
#include "common/keys.h"
#include "common/pem.h"

static const char help[] =
    "Usage: certcli [GLOBAL OPTIONS] issue -d NAME [-d NAME...] [--ip IP...] SOLVER [OPTIONS]\n"
    "       certcli [GLOBAL OPTIONS] certonly ...   (the same)\n"
    "Gets a certificate and saves it as the lineage DIR/certs/NAME/: cert.pem, chain.pem,\n"
    "fullchain.pem, privkey.pem (0600; none with --csr) and meta.json, each written\n"
    "atomically. Registers an account first when none is saved for --server.\n"
    "Identifiers and key:\n"
    "  -d, --domain NAME    a DNS name; *.NAME for a wildcard (dns-01 only) (repeatable)\n"
    "  --ip ADDR            an IP address identifier, RFC 8738 (repeatable)\n"
    "  --name LINEAGE       the lineage name (default: the first identifier, '*' as\n"
    "                       '_wildcard', other characters outside [A-Za-z0-9._-] as '_')\n"
    "  --csr FILE           use this PEM CSR; its names are the identifiers unless -d/--ip\n"
    "                       are given (then they must be the same set)\n"
    "  --key-type TYPE      certificate key: rsa2048, rsa3072, rsa4096, ec256 (default),\n"
    "                       ec384, ed25519 (if the CA takes it)\n"
    "  --reuse-key          keep the lineage's existing private key\n"
    "  --must-staple        add the OCSP Must-Staple extension (RFC 7633)\n"
    "Order:\n"
    "  --profile NAME       a profile the directory lists (`certcli directory`)\n"
    "  --not-before TIME    notBefore, RFC 3339 (2026-01-02T03:04:05Z)\n"
    "  --not-after TIME     notAfter, RFC 3339\n"
    "  --preferred-chain CN pick the chain whose top certificate's issuer CN is CN among\n"
    "                       the alternates the CA offers (default: the CA's default)\n"
    "Account (used only when certcli registers one):\n"
    "  --account-key-type TYPE   the account key's type (default ec256)\n";
static const char help3[] =
    "--json prints {\"result\": \"issued\", \"lineage\", \"path\", \"identifiers\", \"serial\",\n"
    "\"not_before\", \"not_after\", \"issuer\", \"challenge\", \"ari_id\", \"ari\", ...} or\n"
    "{\"result\": \"failed\", \"error\", \"reason\", \"problem\": {\"type\", \"detail\", ...}}.\n"
    "Exit status: 0 issued, 1 failed (the server's problem type and detail on stderr),\n"
    "2 bad usage.\n";

enum {
    OPT_IP = CLI_OPT_LOCAL,
    OPT_NAME,
    OPT_CSR,
    OPT_KEY_TYPE,
    OPT_REUSE_KEY,
    OPT_MUST_STAPLE,
    OPT_PROFILE,
    OPT_NOT_BEFORE,
    OPT_NOT_AFTER,
    OPT_PREFERRED_CHAIN,
    OPT_ACCOUNT_KEY_TYPE,
};

/* The default lineage name: the first identifier, made a safe folder name. */
static char *default_name(const struct ident_list *ids)
{
    static const char wild[] = "_wildcard";
    const char *v = ids->v[0].value;
    /* Identifiers hold at most one '*' (a leading wildcard label, csr.h). */
    char *out = malloc(strlen(v) + sizeof wild);
    char *p = out;
    if (out == NULL)
        return NULL;
    for (; *v != '\0'; v++) {
        if (*v == '*') {
            memcpy(p, wild, sizeof wild - 1);
            p += sizeof wild - 1;
            continue;
        }
        bool ok = (*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') ||
                  (*v >= '0' && *v <= '9') || *v == '.' || *v == '-' || *v == '_';
        *p++ = ok ? *v : '_';
    }
    *p = '\0';
    if (strlen(out) > 64)
        out[64] = '\0';
    return out;
}

static enum mc_err load_csr(const char *path, X509_REQ **out)
{
    char *pem = NULL;
    size_t len = 0;
    enum mc_err err = file_read_all(path, PEM_MAX_LEN, &pem, &len);
    if (err == MC_OK)
        err = pem_read_csr(pem, len, out);
    free(pem);
    return err;
}

/* Registers an account for the issuance when none is saved (the "certonly on a fresh
 * machine" case), with the account options given to issue. */
static int ensure_account(const struct cli_globals *g, struct sess *s,
                          const struct cli_acct_opts *ao, enum key_type akt)
{
    EVP_PKEY *key = NULL;
    cJSON *failure = NULL;
    enum mc_err err = cli_account_load(g, s, "issue");
    int rc;

    if (err == MC_OK)
        return CLI_DONE;
    if (err != MC_ERR_NOT_FOUND)
        return cli_fail(g, NULL, "issue", "cannot use the saved account", err);
    cli_say(g, "certcli issue: no account saved for %s: registering one", g->server);
    err = key_generate(akt, &key);
    if (err != MC_OK)
        return cli_fail(g, NULL, "issue", "cannot generate an account key", err);
    rc = cli_account_register(g, s, "issue", ao, key, NULL, NULL, &failure);
    EVP_PKEY_free(key);
    if (rc == CLI_FAILED && g->json && failure != NULL) {
        cJSON_AddStringToObject(failure, "result", "failed");
        cli_json_emit(failure);
        failure = NULL;
    }
    cJSON_Delete(failure);
    return rc;
}

int cmd_issue(int argc, char **argv, const struct cli_globals *g)
{
    static const struct option opts[] = {
        {"domain", required_argument, NULL, 'd'},
        {"ip", required_argument, NULL, OPT_IP},
        {"name", required_argument, NULL, OPT_NAME},
        {"csr", required_argument, NULL, OPT_CSR},
        {"key-type", required_argument, NULL, OPT_KEY_TYPE},
        {"reuse-key", no_argument, NULL, OPT_REUSE_KEY},
        {"must-staple", no_argument, NULL, OPT_MUST_STAPLE},
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"not-before", required_argument, NULL, OPT_NOT_BEFORE},
        {"not-after", required_argument, NULL, OPT_NOT_AFTER},
        {"preferred-chain", required_argument, NULL, OPT_PREFERRED_CHAIN},
        {"account-key-type", required_argument, NULL, OPT_ACCOUNT_KEY_TYPE},
        CLI_ACCOUNT_LONGOPTS,
        CLI_SOLVER_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "issue";
    struct ident_list ids;
    struct cli_acct_opts ao;
    struct cli_solver_opts so;
    struct cli_order order;
    struct csr_info info;
    struct sess *s = NULL;
    X509_REQ *csr = NULL;
    EVP_PKEY *key = NULL;
    X509 *old_leaf = NULL;
    cJSON *old_meta = NULL, *result = NULL;
    char *name = NULL, *certs = NULL;
    const char *name_arg = NULL, *csr_file = NULL;
    enum key_type kt = KEY_EC_P256, akt = KEY_EC_P256;
    bool key_type_given = false, reuse_key = false;
    enum mc_err err;
    int rc = CLI_USAGE, c, r;

    memset(&ids, 0, sizeof(ids));
    memset(&ao, 0, sizeof(ao));
    memset(&order, 0, sizeof(order));
    memset(&info, 0, sizeof(info));
    cli_solver_opts_init(&so);
    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, ":hd:", opts, NULL);
        if (c == -1)
            break;
        r = cli_acct_opt(&ao, c, optarg, cmd);
        if (r == 0)
            r = cli_solver_opt(&so, c, optarg, cmd);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            fputs(help, stdout);
            fputs(cli_account_help, stdout);
            fputs(cli_solver_help, stdout);
            fputs(help3, stdout);
            rc = CLI_DONE;
            goto out;
        case 'd':
        case OPT_IP:
            err = ident_list_add(&ids, c == 'd' ? IDENT_DNS : IDENT_IP, optarg);
            if (err != MC_OK) {
                rc = cli_usage(cmd, "%s '%s' is not a valid %s", c == 'd' ? "--domain" : "--ip",
                               optarg,
                               err == MC_ERR_LIMIT ? "addition (too many)"
                               : c == 'd'          ? "DNS name"
                                                   : "IP address");
                goto out;
            }
            break;
        case OPT_NAME:
            name_arg = optarg;
            break;
        case OPT_CSR:
            csr_file = optarg;
            break;
        case OPT_KEY_TYPE:
        case OPT_ACCOUNT_KEY_TYPE:
            if (key_type_parse(optarg, c == OPT_KEY_TYPE ? &kt : &akt) != MC_OK) {
                rc = cli_usage(cmd, "unknown key type '%s'", optarg);
                goto out;
            }
            if (c == OPT_KEY_TYPE)
                key_type_given = true;
            break;
        case OPT_REUSE_KEY:
            reuse_key = true;
            break;
        case OPT_MUST_STAPLE:
            order.must_staple = true;
            break;
        case OPT_PROFILE:
            order.profile = optarg;
            break;
        case OPT_NOT_BEFORE:
        case OPT_NOT_AFTER:
            if (cli_parse_rfc3339(optarg, c == OPT_NOT_BEFORE ? &order.not_before
                                                              : &order.not_after) != MC_OK) {
                rc = cli_usage(cmd, "'%s' is not an RFC 3339 time (2026-01-02T03:04:05Z)", optarg);
                goto out;
            }
            break;
        case OPT_PREFERRED_CHAIN:
            order.preferred_chain = optarg;
            break;
        default:
            rc = cli_bad_option(cmd, c, argv);
            goto out;
        }
    }
    if (optind < argc) {
        rc = cli_usage(cmd, "unexpected argument '%s' (names go with -d)", argv[optind]);
        goto out;
    }
    if (cli_acct_check(&ao, cmd) != CLI_DONE || cli_solver_check(&so, cmd, false) != CLI_DONE)
        goto out;
    if (csr_file != NULL && (key_type_given || reuse_key || order.must_staple)) {
        rc = cli_usage(cmd, "--csr brings its own key: no --key-type, --reuse-key or "
                            "--must-staple");
        goto out;
    }
    if (order.not_before != 0 && order.not_after != 0 && order.not_before >= order.not_after) {
        rc = cli_usage(cmd, "--not-before must come before --not-after");
        goto out;
    }
    if (csr_file != NULL) {
        err = load_csr(csr_file, &csr);
        if (err == MC_OK)
            err = csr_read(csr, &info);
        if (err != MC_OK) {
            rc = cli_usage(cmd, "cannot read the CSR %s: %s", csr_file, mc_strerror(err));
            goto out;
        }
        if (ids.n == 0) {
            for (size_t i = 0; i < info.sans.n; i++) {
                err = ident_list_add(&ids, info.sans.v[i].type, info.sans.v[i].value);
                if (err != MC_OK) {
                    rc = cli_usage(cmd, "the CSR's names cannot be ordered: %s", mc_strerror(err));
                    goto out;
                }
            }
        }
    }
    if (ids.n == 0) {
        rc = cli_usage(cmd, "no identifiers: give -d NAME, --ip ADDR or --csr FILE");
        goto out;
    }
    if (!cli_solver_any(&so)) {
        rc = cli_usage(cmd, "choose a challenge solver: --http PORT, --webroot DIR, --alpn "
                            "PORT, --dns-mgmt URL, --dns-rfc2136 SERVER or --dns-hook PROGRAM");
        goto out;
    }
    name = name_arg != NULL ? strdup(name_arg) : default_name(&ids);
    if (name == NULL) {
        rc = cli_fail(g, NULL, cmd, "out of memory", MC_ERR_NOMEM);
        goto out;
    }
    if (!lineage_name_ok(name)) {
        rc = cli_usage(cmd,
                       "'%s' is not a lineage name: 1 to 64 of [A-Za-z0-9._-], not "
                       "starting with '.'",
                       name);
        goto out;
    }

    rc = cli_session_open(g, cmd, &s);
    if (rc != CLI_DONE)
        goto out;
    rc = ensure_account(g, s, &ao, akt);
    if (rc != CLI_DONE)
        goto out;

    if (csr == NULL) {
        if (reuse_key) {
            err = cli_certs_dir(g, &certs);
            if (err == MC_OK)
                err = lineage_read(certs, name, &old_leaf, &key, &old_meta);
            if (err == MC_OK && key == NULL)
                err = MC_ERR_NOT_FOUND;
            if (err == MC_OK)
                cli_say(g, "certcli %s: reusing the key of lineage %s", cmd, name);
            else if (err != MC_ERR_NOT_FOUND) {
                rc = cli_fail(g, NULL, cmd, "cannot read the lineage's key (--reuse-key)", err);
                goto out;
            }
        }
        if (key == NULL) {
            err = key_generate(kt, &key);
            if (err != MC_OK) {
                rc = cli_fail(g, NULL, cmd, "cannot generate the certificate key", err);
                goto out;
            }
        }
    }
    order.name = name;
    order.idents = &ids;
    order.csr = csr;
    order.cert_key = key;
    order.solvers = &so;
    rc = cli_obtain(g, s, cmd, &order, &result);
    if (result != NULL) {
        cJSON_AddStringToObject(result, "result", rc == CLI_DONE ? "issued" : "failed");
        if (g->json) {
            cli_json_emit(result);
            result = NULL;
        }
    }
out:
    cJSON_Delete(result);
    cJSON_Delete(old_meta);
    X509_free(old_leaf);
    EVP_PKEY_free(key);
    X509_REQ_free(csr);
    csr_info_free(&info);
    sess_free(s);
    ident_list_free(&ids);
    cli_acct_opts_free(&ao);
    free(name);
    free(certs);
    return rc;
}
