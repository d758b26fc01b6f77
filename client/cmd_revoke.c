/* cmd_revoke.c: `certcli revoke`: revokeCert (RFC 8555 section 7.6) for a certificate file
 * or a lineage's cert.pem, signed by the saved account or, with --cert-key, by the
 * certificate's own key (the way out when the account key is lost), with an RFC 5280
 * reason code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cmd_common.h"
#include "client/lineage.h"
#include "client/revocation.h"
#include "common/file.h"
#include "common/keys.h"
#include "common/pem.h"
#include "common/x509.h"

static const char help[] =
    "Usage: certcli [GLOBAL OPTIONS] revoke (--cert FILE | --name LINEAGE) [OPTIONS]\n"
    "Revokes a certificate at --server.\n"
    "Options:\n"
    "  --cert FILE          the certificate (PEM; the first certificate in the file)\n"
    "  --name LINEAGE       the certificate of lineage DIR/certs/LINEAGE\n"
    "  --reason R           a reason code 0-10 (not 7) or its name: unspecified,\n"
    "                       keyCompromise, cACompromise, affiliationChanged, superseded,\n"
    "                       cessationOfOperation, certificateHold, removeFromCRL,\n"
    "                       privilegeWithdrawn, aACompromise (default: none sent)\n"
    "  --cert-key FILE      sign with this private key of the certificate instead of the\n"
    "                       account key (no account needed)\n"
    "  -h, --help           this text\n"
    "--json prints {\"result\": \"revoked\"|\"already-revoked\"|\"failed\", \"serial\",\n"
    "\"reason\", \"signed_by\": \"account\"|\"certificate-key\", ...}.\n"
    "Exit status: 0 revoked, 1 failed (the server's problem type and detail on stderr),\n"
    "2 bad usage, 3 already revoked.\n";

enum { OPT_CERT = CLI_OPT_LOCAL, OPT_NAME, OPT_REASON, OPT_CERT_KEY };

static enum mc_err load_cert(const char *path, X509 **out)
{
    char *pem = NULL;
    size_t len = 0;
    enum mc_err err = file_read_all(path, PEM_MAX_LEN, &pem, &len);
    if (err == MC_OK)
        err = pem_read_cert(pem, len, out);
    free(pem);
    return err;
}

static bool already_revoked(struct sess *s)
{
    const struct sess_problem *p = sess_last_problem(s);
    return p != NULL && p->type != NULL &&
           strcmp(p->type, "urn:ietf:params:acme:error:alreadyRevoked") == 0;
}

int cmd_revoke(int argc, char **argv, const struct cli_globals *g)
{
    static const struct option opts[] = {
        {"cert", required_argument, NULL, OPT_CERT},
        {"name", required_argument, NULL, OPT_NAME},
        {"reason", required_argument, NULL, OPT_REASON},
        {"cert-key", required_argument, NULL, OPT_CERT_KEY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "revoke";
    const char *cert_file = NULL, *name = NULL, *key_file = NULL;
    int reason = RVK_NO_REASON;
    struct sess *s = NULL;
    X509 *cert = NULL;
    EVP_PKEY *cert_key = NULL, *lkey = NULL;
    cJSON *meta = NULL, *j = NULL;
    char *certs = NULL, *serial = NULL;
    enum mc_err err;
    int rc = CLI_USAGE, c;

    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, ":h", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'h':
            fputs(help, stdout);
            return CLI_DONE;
        case OPT_CERT:
            cert_file = optarg;
            break;
        case OPT_NAME:
            name = optarg;
            break;
        case OPT_REASON:
            if (rvk_reason_parse(optarg, &reason) != MC_OK)
                return cli_usage(cmd, "unknown --reason '%s'", optarg);
            break;
        case OPT_CERT_KEY:
            key_file = optarg;
            break;
        default:
            return cli_bad_option(cmd, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    if ((cert_file == NULL) == (name == NULL))
        return cli_usage(cmd, "give exactly one of --cert FILE and --name LINEAGE");
    if (name != NULL && !lineage_name_ok(name))
        return cli_usage(cmd, "'%s' is not a lineage name", name);

    if (cert_file != NULL) {
        err = load_cert(cert_file, &cert);
        if (err != MC_OK) {
            rc = cli_fail(g, NULL, cmd, "cannot read --cert", err);
            goto out;
        }
    } else {
        err = cli_certs_dir(g, &certs);
        if (err == MC_OK)
            err = lineage_read(certs, name, &cert, &lkey, &meta);
        if (err != MC_OK) {
            rc = cli_fail(g, NULL, cmd, "cannot read the lineage", err);
            goto out;
        }
    }
    if (key_file != NULL) {
        err = key_load(key_file, &cert_key);
        if (err != MC_OK) {
            rc = cli_fail(g, NULL, cmd, "cannot read --cert-key", err);
            goto out;
        }
    }
    if (x509_serial_hex(cert, &serial) != MC_OK)
        serial = NULL;

    rc = cli_session_open(g, cmd, &s);
    if (rc != CLI_DONE)
        goto out;
    if (cert_key == NULL) {
        err = cli_account_load(g, s, cmd);
        if (err != MC_OK) {
            if (err == MC_ERR_NOT_FOUND)
                fprintf(stderr,
                        "certcli %s: no account saved for %s: register one, or sign "
                        "with --cert-key FILE\n",
                        cmd, g->server);
            rc = cli_fail(g, NULL, cmd, "no account to sign with", err);
            goto out;
        }
    }
    err = rvk_revoke(s, cert, cert_key, reason);
    j = cJSON_CreateObject();
    if (j == NULL) {
        rc = cli_fail(g, NULL, cmd, "out of memory", MC_ERR_NOMEM);
        goto out;
    }
    if (serial != NULL)
        cJSON_AddStringToObject(j, "serial", serial);
    if (reason != RVK_NO_REASON)
        cJSON_AddStringToObject(j, "reason", rvk_reason_name(reason));
    cJSON_AddStringToObject(j, "signed_by", cert_key != NULL ? "certificate-key" : "account");
    if (err == MC_ERR_PROBLEM && already_revoked(s)) {
        cli_say(g, "certcli %s: %s is revoked already", cmd, serial ? serial : "the certificate");
        cJSON_AddStringToObject(j, "result", "already-revoked");
        rc = CLI_NOTHING;
    } else if (err == MC_ERR_MISMATCH) {
        rc = cli_fail(g, NULL, cmd, "--cert-key is not the certificate's key", err);
        goto out;
    } else if (err != MC_OK) {
        rc = cli_fail(g, s, cmd, "the CA refused the revocation", err);
        goto out;
    } else {
        cli_say(g, "certcli %s: revoked %s%s%s", cmd, serial ? serial : "the certificate",
                reason != RVK_NO_REASON ? ", reason " : "",
                reason != RVK_NO_REASON ? rvk_reason_name(reason) : "");
        cJSON_AddStringToObject(j, "result", "revoked");
        rc = CLI_DONE;
    }
    if (g->json) {
        cli_json_emit(j);
        j = NULL;
    }
out:
    cJSON_Delete(j);
    cJSON_Delete(meta);
    X509_free(cert);
    EVP_PKEY_free(cert_key);
    EVP_PKEY_free(lkey);
    sess_free(s);
    free(certs);
    free(serial);
    return rc;
}
