/* cmd_directory.c: `certcli directory`: what the CA offers (RFC 8555 section 7.1.1): its
 * resource URLs, terms of service, whether it needs External Account Binding, CAA
 * identities, ARI (RFC 9773) and certificate profiles. */
#include <stdio.h>
#include <string.h>

#include "client/cmd_common.h"

static const char help[] =
    "Usage: certcli [GLOBAL OPTIONS] directory [--help]\n"
    "Fetches the directory of --server and shows its resources, terms of service, External\n"
    "Account Binding requirement, CAA identities, ACME Renewal Information support and\n"
    "certificate profiles (the names `certcli issue --profile` takes).\n"
    "With --json: {\"result\":\"ok\", \"server\": URL, \"directory\": <the directory as the\n"
    "CA sent it>}.\n"
    "Exit status: 0 shown, 1 the directory could not be fetched or is invalid, 2 bad usage.\n";

int cmd_directory(int argc, char **argv, const struct cli_globals *g)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sess *s = NULL;
    struct sess_resp resp;
    const struct sess_dir *d;
    enum mc_err err;
    int rc, c;

    memset(&resp, 0, sizeof(resp));
    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, ":h", opts, NULL);
        if (c == -1)
            break;
        if (c == 'h') {
            fputs(help, stdout);
            return CLI_DONE;
        }
        return cli_bad_option("directory", c, argv);
    }
    if (optind < argc)
        return cli_usage("directory", "unexpected argument '%s'", argv[optind]);

    rc = cli_session_open(g, "directory", &s);
    if (rc != CLI_DONE)
        goto out;
    d = sess_directory(s);
    if (g->json) {
        cJSON *j = NULL;
        /* The checked copy in the session has no unknown members; --json shows the CA's
         * own document, so ask for it once more. */
        err = sess_get(s, g->server, &resp);
        if (err == MC_OK && !cJSON_IsObject(resp.json))
            err = MC_ERR_INVALID;
        if (err != MC_OK) {
            rc = cli_fail(g, s, "directory", "cannot fetch the directory", err);
            goto out;
        }
        j = cJSON_CreateObject();
        if (j == NULL) {
            rc = cli_fail(g, NULL, "directory", "out of memory", MC_ERR_NOMEM);
            goto out;
        }
        cJSON_AddStringToObject(j, "result", "ok");
        cJSON_AddStringToObject(j, "server", g->server);
        cJSON_AddItemToObject(j, "directory", resp.json);
        resp.json = NULL;
        cli_json_emit(j);
        rc = CLI_DONE;
        goto out;
    }
    fprintf(stdout, "directory      %s\n", g->server);
    fprintf(stdout, "newNonce       %s\n", d->new_nonce);
    fprintf(stdout, "newAccount     %s\n", d->new_account);
    fprintf(stdout, "newOrder       %s\n", d->new_order);
    fprintf(stdout, "newAuthz       %s\n", d->new_authz ? d->new_authz : "(none)");
    fprintf(stdout, "revokeCert     %s\n", d->revoke_cert ? d->revoke_cert : "(none)");
    fprintf(stdout, "keyChange      %s\n", d->key_change ? d->key_change : "(none)");
    fprintf(stdout, "renewalInfo    %s\n",
            d->renewal_info ? d->renewal_info : "(none: no ARI, renewal by lifetime only)");
    fprintf(stdout, "terms          %s\n", d->terms_of_service ? d->terms_of_service : "(none)");
    if (d->website)
        fprintf(stdout, "website        %s\n", d->website);
    fprintf(stdout, "EAB required   %s\n", d->eab_required ? "yes" : "no");
    for (size_t i = 0; i < d->n_caa_identities; i++)
        fprintf(stdout, "CAA identity   %s\n", d->caa_identities[i]);
    if (d->n_profiles == 0)
        fprintf(stdout, "profiles       (none)\n");
    for (size_t i = 0; i < d->n_profiles; i++)
        fprintf(stdout, "profile        %-20s %s\n", d->profile_names[i],
                d->profile_descs[i] ? d->profile_descs[i] : "");
    rc = CLI_DONE;
out:
    sess_resp_free(&resp);
    sess_free(s);
    return rc;
}
